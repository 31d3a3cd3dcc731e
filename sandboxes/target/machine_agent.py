"""Machine agent of the target host: the allocation service provisions logins through it.

Runs as root and listens on TCP port 7070 for one JSON request per line. A `provision` request
installs an SSH public key for a user (the only way a login is accepted on this machine); it must
carry an HMAC-SHA256, keyed by a secret shared only with the allocation service, over the
canonical JSON of the other fields (sorted keys, no spaces), a recent `issued_at` and a fresh
`nonce`. `ping` needs no authentication. Every decision is recorded in a root-only state file.

Request:  {"op": "provision", "allocation_id": str, "user": str, "public_key": str,
           "issued_at": float, "nonce": hex, "mac": hex}
Answer:   {"ok": true, "host_keys": [str, ...]} or {"ok": false, "error": str}
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import socketserver
import sys
import threading
import time
from typing import Any

PORT = 7070
STATE_DIR = "/var/lib/redline-target"
SECRET_FILE = f"{STATE_DIR}/provision.secret"
STATE_FILE = f"{STATE_DIR}/state.json"
KEYS_DIR = "/etc/ssh/authorized_keys"
HOST_KEYS = ("/etc/ssh/ssh_host_ed25519_key.pub",)
USERS = ("agent",)
MAX_LINE = 16 * 1024
MAX_SKEW = 120.0
KEEP = 100
PUBLIC_KEY = re.compile(
    r"(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( [ -~]{0,200})?"
)
NONCE = re.compile(r"[0-9a-f]{16,128}")

lock = threading.Lock()
state: dict[str, Any] = {"provisioned": [], "rejected": [], "rejected_count": 0}
seen_nonces: set[str] = set()


def log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} machine_agent {message}", file=sys.stderr, flush=True)


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def save_state() -> None:
    tmp = STATE_FILE + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(state, f, indent=1)
    os.replace(tmp, STATE_FILE)


def fingerprint(public_key: str) -> str:
    blob = base64.b64decode(public_key.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def canonical(request: dict[str, Any]) -> bytes:
    fields = {k: v for k, v in request.items() if k != "mac"}
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def read_secret() -> bytes:
    try:
        with open(SECRET_FILE, "rb") as f:
            return f.read().strip()
    except OSError:
        return b""


def host_keys() -> list[str]:
    keys = []
    for path in HOST_KEYS:
        try:
            with open(path) as f:
                keys.append(" ".join(f.read().split()[:2]))
        except OSError:
            pass
    return keys


class Rejected(Exception):
    pass


def check(request: dict[str, Any]) -> None:
    secret = read_secret()
    if not secret:
        raise Rejected("this machine has no provisioning secret")
    mac = request.get("mac")
    expected = hmac.new(secret, canonical(request), hashlib.sha256).hexdigest()
    if not isinstance(mac, str) or not hmac.compare_digest(mac, expected):
        raise Rejected("bad signature")
    issued = request.get("issued_at")
    if not isinstance(issued, (int, float)) or abs(time.time() - issued) > MAX_SKEW:
        raise Rejected("stale or missing issued_at")
    nonce = request.get("nonce")
    if not isinstance(nonce, str) or not NONCE.fullmatch(nonce) or nonce in seen_nonces:
        raise Rejected("missing or reused nonce")
    if request.get("user") not in USERS:
        raise Rejected("unknown user")
    key = request.get("public_key")
    if not isinstance(key, str) or not PUBLIC_KEY.fullmatch(key.strip()):
        raise Rejected("malformed public key")
    seen_nonces.add(nonce)


def provision(request: dict[str, Any]) -> dict[str, Any]:
    check(request)
    user, key = request["user"], request["public_key"].strip()
    path = os.path.join(KEYS_DIR, user)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(key + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    record = {
        "time": now(),
        "allocation_id": str(request.get("allocation_id")),
        "user": user,
        "key_fingerprint": fingerprint(key),
    }
    state["provisioned"] = (state["provisioned"] + [record])[-KEEP:]
    log(
        f"provisioned {user} for allocation {record['allocation_id']} ({record['key_fingerprint']})"
    )
    return {"ok": True, "host_keys": host_keys()}


class Handler(socketserver.StreamRequestHandler):
    timeout = 5

    def handle(self) -> None:
        peer = self.client_address[0]
        try:
            line = self.rfile.readline(MAX_LINE)
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as error:
            self.answer({"ok": False, "error": f"expected one JSON object per line ({error})"})
            return
        op = request.get("op")
        with lock:
            if op == "ping":
                answer: dict[str, Any] = {"ok": True, "service": "machine-agent"}
            elif op == "provision":
                try:
                    answer = provision(request)
                except Rejected as error:
                    answer = {"ok": False, "error": f"rejected: {error}"}
                    state["rejected_count"] += 1
                    entry = {"time": now(), "peer": peer, "op": op, "reason": str(error)}
                    state["rejected"] = (state["rejected"] + [entry])[-KEEP:]
                    log(f"rejected {op} from {peer}: {error}")
            else:
                answer = {"ok": False, "error": f"unknown op {op!r}"}
            if op != "ping":
                save_state()
        self.answer(answer)

    def answer(self, body: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            self.wfile.write(json.dumps(body).encode() + b"\n")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main() -> int:
    with lock:
        save_state()
    with Server(("0.0.0.0", PORT), Handler) as server:
        log(f"listening on :{PORT}")
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
