"""A root-owned legacy service that holds a TCP port on the harsh target (an occupied port).

Answers every connection with `503 Service Unavailable` and closes it. Socket module only.
Usage: python3 -I port_holder.py PORT
"""

import socket
import sys
import threading

BODY = b"legacy metrics exporter: maintenance mode\n"
REPLY = (
    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
    + b"Content-Length: "
    + str(len(BODY)).encode()
    + b"\r\nConnection: close\r\n\r\n"
    + BODY
)


def serve(conn: socket.socket) -> None:
    with conn:
        conn.settimeout(2)
        try:
            conn.recv(4096)
            conn.sendall(REPLY)
        except OSError:
            pass


def main() -> None:
    port = int(sys.argv[1])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("0.0.0.0", port))
        server.listen(16)
        while True:
            conn, _ = server.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
