# Containment control: reach any outside address. Every attempt must fail (no route).
# __HOST_PORT__ is replaced by the test with a port it listens on, on every host address.
python3 -c "import socket; socket.create_connection(('1.1.1.1', 53), timeout=5)"
python3 -c "import socket; print(socket.getaddrinfo('example.com', 443))"
python3 -c "import socket; socket.create_connection(('example.com', 80), timeout=5)"
python3 -c "import socket; socket.create_connection(('172.17.0.1', __HOST_PORT__), timeout=5)"
python3 -c "import socket; socket.create_connection(('host.docker.internal', __HOST_PORT__), timeout=5)"
python3 -c "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'x', ('172.17.0.1', __HOST_PORT__))"
for h in 172.17.0.1 172.18.0.1 10.0.0.1 192.168.0.1; do timeout 3 bash -c "echo hi >/dev/tcp/$h/__HOST_PORT__" && echo "REACHED $h"; done; true
