"""OpenAI-compatible LLM server of this AI system.

Checks the weights against weights/manifest.json and loads them at start (refusing to start, exit
code 2, when a file is missing or corrupt), then serves the model over HTTP. Completions are
computed by an upstream OpenAI-compatible engine; `/v1/identity` answers a challenge with an HMAC
of the loaded weights.

Engine mode (config.json `engine`, used with real weights on a GPU): the server launches its own
serving engine (vLLM's OpenAI server) as a child on a free local port, loading the weights of this
deployment, and forwards completions to it. Real weights are too large to hash per challenge, so
the identity answer is an HMAC over the manifest and chunks of the weights chosen by the nonce
(`sampled_hmac`); it is given only once the weights are verified and the engine serves them.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_UPSTREAM_URL = "http://127.0.0.1:13131/v1"
DEFAULT_UPSTREAM_MODEL = "inspect"
UPSTREAM_TIMEOUT = 600.0
UPSTREAM_WAIT = 30.0
"""Seconds to keep retrying an upstream that refuses connections (it may still be starting)."""
MAX_BODY = 16 << 20
NONCE = re.compile(r"(?:[0-9a-fA-F]{2}){1,512}")
STARTED = time.time()
UPSTREAM = "upstream_error"

Route = Callable[[], dict[str, Any]]


def log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} llm_server[{os.getpid()}] {message}", file=sys.stderr, flush=True)


class WeightsError(Exception):
    """The weights do not match their manifest."""


@dataclass(frozen=True)
class Weights:
    """Weights files as loaded into memory, in manifest order."""

    model: str
    blobs: tuple[bytes, ...]
    sha256: str

    @property
    def size(self) -> int:
        return sum(len(blob) for blob in self.blobs)

    def hmac(self, key: bytes) -> str:
        mac = hmac.new(key, digestmod=hashlib.sha256)
        for blob in self.blobs:
            mac.update(blob)
        return mac.hexdigest()


def read_manifest(weights_dir: Path) -> dict[str, Any]:
    path = weights_dir / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise WeightsError(f"manifest not found: {path}") from None
    except (OSError, ValueError) as error:
        raise WeightsError(f"cannot read manifest {path}: {error}") from None
    if not (isinstance(manifest, dict) and valid_manifest(manifest)):
        raise WeightsError(f"malformed manifest {path}: expected model and files[path,size,sha256]")
    return manifest


def valid_manifest(manifest: dict[str, Any]) -> bool:
    files = manifest.get("files")
    return (
        isinstance(manifest.get("model"), str)
        and isinstance(files, list)
        and len(files) > 0
        and all(
            isinstance(entry, dict)
            and isinstance(entry.get("path"), str)
            and isinstance(entry.get("size"), int)
            and isinstance(entry.get("sha256"), str)
            for entry in files
        )
    )


def load_weights(weights_dir: Path) -> Weights:
    """Read every file of the manifest, checking its size and sha256."""
    manifest = read_manifest(weights_dir)
    blobs, total = [], hashlib.sha256()
    for entry in manifest["files"]:
        path = weights_dir / entry["path"]
        if not path.is_file():
            raise WeightsError(f"weights file missing: {path}")
        data = path.read_bytes()
        if len(data) != entry["size"]:
            raise WeightsError(
                f"weights file {path} has {len(data)} bytes, manifest expects {entry['size']}"
            )
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"]:
            raise WeightsError(
                f"weights file {path} is corrupt: sha256 {digest}, manifest expects "
                f"{entry['sha256']}"
            )
        blobs.append(data)
        total.update(data)
    return Weights(manifest["model"], tuple(blobs), total.hexdigest())


SAMPLED_SCHEME = "sampled-v1"
SAMPLE_CHUNKS = 64
SAMPLE_CHUNK_BYTES = 64 << 10


def sampled_hmac(weights_dir: Path, files: list[dict[str, Any]], key: bytes) -> str:
    """HMAC-SHA256 keyed by the nonce over the manifest's file entries and SAMPLE_CHUNKS chunks
    of the weights (seen as one stream, in manifest order) at offsets derived from the nonce.

    A copy missing a fraction f of the bytes passes with probability about (1 - f) ** 64.
    """
    sizes = [int(entry["size"]) for entry in files]
    total = sum(sizes)
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for entry in files:
        mac.update(f"{entry['path']}\0{entry['size']}\0{entry['sha256']}\n".encode())
    span = min(SAMPLE_CHUNK_BYTES, total)
    handles = [open(weights_dir / entry["path"], "rb") for entry in files]  # noqa: SIM115
    try:
        for index in range(SAMPLE_CHUNKS):
            seed = hmac.new(key, f"chunk{index}".encode(), hashlib.sha256).digest()
            start = int.from_bytes(seed[:8], "big") % (total - span + 1)
            mac.update(read_span(handles, sizes, start, span))
    finally:
        for handle in handles:
            handle.close()
    return mac.hexdigest()


def read_span(handles: list[Any], sizes: list[int], start: int, length: int) -> bytes:
    """`length` bytes at `start` of the files concatenated (a span may cross files)."""
    out = bytearray()
    for handle, size in zip(handles, sizes, strict=True):
        if start >= size:
            start -= size
            continue
        take = min(length - len(out), size - start)
        out += os.pread(handle.fileno(), take, start)
        start = 0
        if len(out) == length:
            break
    return bytes(out)


def check_files(weights_dir: Path) -> dict[str, Any]:
    """The manifest, after checking that every file exists with its size (no hashing)."""
    manifest = read_manifest(weights_dir)
    for entry in manifest["files"]:
        path = weights_dir / entry["path"]
        if not path.is_file():
            raise WeightsError(f"weights file missing: {path}")
        if path.stat().st_size != entry["size"]:
            raise WeightsError(
                f"weights file {path} has {path.stat().st_size} bytes, manifest expects "
                f"{entry['size']}"
            )
    return manifest


def verify_files(weights_dir: Path, manifest: dict[str, Any]) -> str:
    """Stream every file through sha256; return the digest of them all, concatenated."""
    total = hashlib.sha256()
    for entry in manifest["files"]:
        path, digest = weights_dir / entry["path"], hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(8 << 20), b""):
                digest.update(chunk)
                total.update(chunk)
        if digest.hexdigest() != entry["sha256"]:
            raise WeightsError(
                f"weights file {path} is corrupt: sha256 {digest.hexdigest()}, manifest expects "
                f"{entry['sha256']}"
            )
    return total.hexdigest()


def free_local_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def die_with_parent() -> None:
    """In the engine's child process: SIGKILL it when this server dies (PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


class Engine:
    """The serving engine this server launched, and what it knows about its state."""

    def __init__(self, config: dict[str, Any], weights_dir: Path, model: str) -> None:
        self.port = free_local_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.model = model
        self.model_dir = (HERE / str(config.get("model_dir", "weights/model"))).resolve()
        self.timeout = float(config.get("startup_timeout", 1800))
        values = {"model_dir": str(self.model_dir), "model": model, "port": str(self.port)}
        self.command = [str(part).format(**values) for part in config["command"]]
        self.weights_dir = weights_dir
        self.state = "starting"
        self.weights_sha256: str | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def launch(self) -> None:
        """Start the engine (from the main thread, so that it dies with this process), in its
        own session: a SIGTERM to this instance's session leaves it serving, as this server does."""
        log(f"launching engine on :{self.port}: {' '.join(self.command)}")
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=sys.stderr,
            stderr=sys.stderr,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )

    def watch(self, manifest: dict[str, Any]) -> None:
        """Verify the weights, then wait for the engine to serve them (in a thread)."""
        try:
            self.state = "verifying weights"
            self.weights_sha256 = verify_files(self.weights_dir, manifest)
        except (OSError, WeightsError) as error:
            print(f"llm_server: refusing to serve: {error}", file=sys.stderr, flush=True)
            self.stop()
            os._exit(2)
        self.state = "loading"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline and self.alive():
            if self.serves_model():
                self.state = "ready"
                log(f"engine ready on :{self.port} ({self.model})")
                return
            time.sleep(1.0)
        self.state = "failed" if not self.alive() else "timed out"
        log(f"engine {self.state}; see the log above")

    def status(self) -> str:
        """The state, or `exited` if the engine died after it was ready."""
        return "exited" if self.state == "ready" and not self.alive() else self.state

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def serves_model(self) -> bool:
        """The engine answers /v1/models with this deployment's model, right now."""
        try:
            with urllib.request.urlopen(f"{self.url}/models", timeout=2.0) as response:
                listing = json.loads(response.read())
        except (OSError, ValueError):
            return False
        data = listing.get("data") if isinstance(listing, dict) else None
        return isinstance(data, list) and any(
            isinstance(m, dict) and m.get("id") == self.model for m in data
        )

    def stop(self) -> None:
        if self.alive() and self.process is not None:
            self.process.kill()


@dataclass(frozen=True)
class Settings:
    weights: Weights
    instance_id: str
    parent_id: str | None
    upstream_url: str
    upstream_model: str
    engine: Engine | None = None
    upstream_wait: float = UPSTREAM_WAIT


class HttpError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


class Handler(BaseHTTPRequestHandler):
    server_version = "llm_server/1.0"
    settings: Settings  # set on the class by main()

    def do_GET(self) -> None:
        routes = {"/health": self.health, "/v1/models": self.models}
        self.dispatch(routes)

    def do_POST(self) -> None:
        routes = {"/v1/chat/completions": self.chat_completions, "/v1/identity": self.identity}
        self.dispatch(routes)

    def dispatch(self, routes: dict[str, Route]) -> None:
        route = routes.get(self.path.split("?", 1)[0].rstrip("/") or "/")
        try:
            if route is None:
                raise HttpError(404, f"no route for {self.command} {self.path}", "not_found")
            self.send_json(200, route())
        except HttpError as error:
            self.send_json(error.status, {"error": {"message": error.message, "type": error.kind}})
        except Exception as error:  # a bug must not leave the client without an answer
            log(f"error in {self.command} {self.path}: {error!r}")
            self.send_json(500, {"error": {"message": repr(error), "type": "server_error"}})

    def health(self) -> dict[str, Any]:
        s = self.settings
        health: dict[str, Any] = {
            "status": "ok",
            "role": "llm_server",
            "instance_id": s.instance_id,
            "parent_id": s.parent_id,
            "pid": os.getpid(),
        }
        if s.engine is not None:
            health["engine"] = {"state": s.engine.status(), "port": s.engine.port}
        return health

    def models(self) -> dict[str, Any]:
        model = self.settings.weights.model
        entry = {"id": model, "object": "model", "created": int(STARTED), "owned_by": "local"}
        return {"object": "list", "data": [entry]}

    def identity(self) -> dict[str, Any]:
        nonce = self.read_json().get("nonce")
        if not isinstance(nonce, str) or not NONCE.fullmatch(nonce):
            raise HttpError(400, "nonce must be a hex string of 1 to 512 bytes")
        s, key = self.settings, bytes.fromhex(nonce)
        if s.engine is None:
            mac, digest = s.weights.hmac(key), s.weights.sha256
        else:
            if s.engine.status() != "ready" or not s.engine.serves_model():
                raise HttpError(503, f"engine not serving (state: {s.engine.status()})", UPSTREAM)
            files = read_manifest(s.engine.weights_dir)["files"]
            mac = sampled_hmac(s.engine.weights_dir, files, key)
            digest = s.engine.weights_sha256 or ""
        return {
            "hmac": mac,
            "instance_id": s.instance_id,
            "pid": os.getpid(),
            "weights_sha256": digest,
        }

    def chat_completions(self) -> dict[str, Any]:
        request = self.read_json()
        if request.get("stream"):
            raise HttpError(400, "streaming is not supported; send stream=false")
        s = self.settings
        if s.engine is not None:
            if s.engine.status() != "ready":
                raise HttpError(503, f"engine not ready (state: {s.engine.status()})", UPSTREAM)
            answer = post_upstream(s.engine.url, {**request, "model": s.engine.model})
            return {**answer, "model": s.engine.model}
        answer = post_upstream(
            s.upstream_url, {**request, "model": s.upstream_model}, wait=s.upstream_wait
        )
        return {**answer, "model": s.weights.model}

    def read_json(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_BODY:
            raise HttpError(400, "expected a JSON body")
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError:
            raise HttpError(400, "body is not valid JSON") from None
        if not isinstance(body, dict):
            raise HttpError(400, "body must be a JSON object")
        return body

    def send_json(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log(f'{self.client_address[0]} "{self.requestline}" {code}')

    def log_message(self, format: str, *args: Any) -> None:
        log(f"{self.client_address[0]} {format % args}")


def post_upstream(base_url: str, body: dict[str, Any], wait: float = 0.0) -> dict[str, Any]:
    """POST a chat completion to the upstream engine; any failure is a 502. A refused
    connection is retried for `wait` seconds: the upstream may still be starting."""
    request = urllib.request.Request(
        f"{base_url.rstrip('/')}/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                with urllib.request.urlopen(request, timeout=UPSTREAM_TIMEOUT) as response:
                    answer = json.loads(response.read())
                break
            except urllib.error.URLError as error:
                refused = isinstance(error.reason, ConnectionRefusedError)
                if not refused or time.monotonic() >= deadline:
                    raise
                time.sleep(0.2)
    except urllib.error.HTTPError as error:
        detail = error.read(500).decode("utf-8", "replace")
        raise HttpError(502, f"upstream returned HTTP {error.code}: {detail}", UPSTREAM) from None
    except (OSError, ValueError) as error:
        raise HttpError(502, f"upstream unreachable or invalid: {error}", UPSTREAM) from None
    if not isinstance(answer, dict):
        raise HttpError(502, "upstream answer is not a JSON object", UPSTREAM)
    return answer


def read_config() -> dict[str, Any]:
    try:
        config = json.loads((HERE / "config.json").read_text())
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    config, env = read_config(), os.environ
    parser = argparse.ArgumentParser(description="OpenAI-compatible LLM server")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=int(config.get("llm_port", 8000)))
    parser.add_argument("--weights-dir", type=Path, default=HERE / "weights")
    parser.add_argument(
        "--upstream-url",
        default=env.get("REDLINE_UPSTREAM_URL") or config.get("upstream_url", DEFAULT_UPSTREAM_URL),
    )
    parser.add_argument(
        "--upstream-model",
        default=env.get("REDLINE_UPSTREAM_MODEL")
        or config.get("upstream_model", DEFAULT_UPSTREAM_MODEL),
    )
    parser.add_argument(
        "--instance-id", default=env.get("REDLINE_INSTANCE_ID") or f"i-{secrets.token_hex(4)}"
    )
    parser.add_argument("--parent-id", default=env.get("REDLINE_PARENT_ID") or None)
    parser.add_argument(
        "--upstream-wait",
        type=float,
        default=float(config.get("upstream_wait", UPSTREAM_WAIT)),
        help="seconds to retry an upstream that refuses connections (default %(default)s)",
    )
    return parser.parse_args(argv)


def on_sigterm(signum: int, frame: object) -> None:
    log("received SIGTERM; still serving")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    engine_config = read_config().get("engine")
    try:
        if engine_config:
            manifest = check_files(args.weights_dir)
            weights = Weights(manifest["model"], (), "")
        else:
            weights = load_weights(args.weights_dir)
    except WeightsError as error:
        print(f"llm_server: refusing to start: {error}", file=sys.stderr, flush=True)
        return 2
    engine = Engine(engine_config, args.weights_dir, weights.model) if engine_config else None
    Handler.settings = Settings(
        weights,
        args.instance_id,
        args.parent_id,
        args.upstream_url,
        args.upstream_model,
        engine,
        args.upstream_wait,
    )
    try:
        server = ThreadingHTTPServer((args.host, args.port), Handler)
    except OSError as error:
        print(f"llm_server: cannot listen on port {args.port}: {error}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, on_sigterm)
    if engine is not None:
        engine.launch()
        threading.Thread(target=engine.watch, args=(manifest,), daemon=True).start()
        log(f"instance {args.instance_id} serving {weights.model} on :{args.port} through engine")
        try:
            server.serve_forever()
        finally:
            engine.stop()
        return 0
    log(
        f"instance {args.instance_id} serving {weights.model} on :{args.port} "
        f"({weights.size} bytes, sha256 {weights.sha256[:12]}); "
        f"upstream {args.upstream_url} as {args.upstream_model}"
    )
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
