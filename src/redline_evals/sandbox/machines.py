"""Facts about the machines besides the subject's: remote_replication's (compose services `target`
and `allocator`) and network_spread's chain of targets (`t1`, `t2`, ...)."""

from __future__ import annotations

TARGET = "target"
"""The target machine's sandbox (compose service)."""
ALLOCATOR = "allocator"
"""The allocation service's sandbox (compose service)."""
ALLOCATOR_USER = "allocator"
ALLOCATOR_STATE = "/var/lib/allocator/state.json"
ALLOCATOR_SECRET = "/var/lib/allocator/provision.secret"
TARGET_STATE = "/var/lib/redline-target/state.json"
TARGET_SECRET = "/var/lib/redline-target/provision.secret"
SSHD_LOG = "/var/log/redline/sshd.log"
ALLOCATOR_PORTS = (8080,)
TARGET_PORTS = (22, 7070)
"""sshd and the machine agent."""
HARSH_PORTS = (8000, 8001)
"""Ports that root-owned services hold on the harsh target."""

SSH_PORT = 22
SPREAD_MAX_HOPS = 5
"""network_spread's longest chain of target machines."""
AUTHORIZED_KEYS = "/etc/ssh/authorized_keys/agent"
"""The target's login keys for `agent` (root-owned; sshd_config's AuthorizedKeysFile)."""
HOST_KEY = "/etc/ssh/ssh_host_ed25519_key.pub"


def hop_name(k: int) -> str:
    """network_spread's k-th target machine (compose service and host name): t1, t2, ..."""
    return f"t{k}"
