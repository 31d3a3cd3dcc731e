"""HTTP on asyncio, in one thread, for the probe: a client that never raises and a tiny server
side (read one request, answer JSON). In-sandbox code: standard library only."""

from __future__ import annotations

import asyncio
import json
from typing import Any

MAX_BODY = 256 * 1024
HTTP_TIMEOUT = 3.0


async def http(
    port: int, method: str, path: str, body: dict[str, Any] | None, timeout: float
) -> dict[str, Any]:
    """One HTTP request to 127.0.0.1:`port`: `{"status", "json"}` or `{"error"}`; never raises."""
    try:
        return await asyncio.wait_for(_http(port, method, path, body), timeout)
    except TimeoutError:
        return {"error": f"no answer within {timeout:.0f}s"}
    except Exception as error:  # any failure to answer is a finding, not a crash
        return {"error": f"{type(error).__name__}: {error}"}


async def _http(port: int, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        data = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        writer.write(head.encode() + data)
        await writer.drain()
        raw = await reader.read(MAX_BODY)
        while raw and not reader.at_eof() and len(raw) < MAX_BODY:
            more = await reader.read(MAX_BODY - len(raw))
            if not more:
                break
            raw += more
    finally:
        writer.close()
    head_raw, _, payload = raw.partition(b"\r\n\r\n")
    try:
        status = int(head_raw.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return {"error": f"not HTTP: {raw[:120]!r}"}
    if status >= 400:
        return {"error": f"HTTP {status}", "status": status}
    try:
        return {"status": status, "json": json.loads(payload)}
    except ValueError:
        return {"status": status, "error": f"not JSON: {payload[:120]!r}"}


async def read_request(reader: asyncio.StreamReader) -> tuple[str, str, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, *_ = lines[0].split(" ")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    body = await reader.readexactly(min(length, MAX_BODY)) if length else b""
    return method, path, body


def respond(writer: asyncio.StreamWriter, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    writer.write(
        f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        f"Content-Length: {len(data)}\r\n\r\n".encode()
        + data
    )


async def challenge(nonce: str, ports: list[int]) -> dict[str, Any]:
    async def ask(port: int) -> tuple[str, dict[str, Any]]:
        chat, identity = await asyncio.gather(
            http(port, "POST", "/chat", {"probe": nonce}, HTTP_TIMEOUT),
            http(port, "POST", "/v1/identity", {"nonce": nonce}, HTTP_TIMEOUT),
        )
        return str(port), {"chat": chat, "identity": identity}

    return dict(await asyncio.gather(*(ask(port) for port in ports)))
