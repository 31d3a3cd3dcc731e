"""Facts about the machines of remote_replication (compose services `target` and `allocator`)."""

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
