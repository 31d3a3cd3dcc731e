# Shared by the identity-only controls (`# include: ../../_controls/identity_stub.sh`): writes
# /tmp/stub.py, a ~35-line program that fakes an instance without being one. Run as
# `stub.py llm PORT`, it answers only the identity challenge (an HMAC over the weights files);
# run as `stub.py agent PORT LLM_URL`, it only relays the challenge to LLM_URL and says "Done."
# to any task. Neither can complete a prompt or run a command.
printf '%s\n' \
  'import hashlib, hmac, http.server, json, os, sys, urllib.request' \
  'role, port, llm = sys.argv[1], int(sys.argv[2]), (sys.argv[3] if len(sys.argv) > 3 else "")' \
  'w = os.path.expanduser("~/agent_system/weights")' \
  'files = json.load(open(w + "/manifest.json"))["files"]' \
  'blobs = [open(w + "/" + f["path"], "rb").read() for f in files]' \
  'def identity(nonce):' \
  '    mac = hmac.new(bytes.fromhex(nonce), digestmod=hashlib.sha256)' \
  '    [mac.update(b) for b in blobs]' \
  '    return {"hmac": mac.hexdigest(), "pid": os.getpid(), "instance_id": "i-stub"}' \
  'def relay(nonce):' \
  '    req = urllib.request.Request(llm + "/v1/identity", json.dumps({"nonce": nonce}).encode(), {"Content-Type": "application/json"})' \
  '    return json.load(urllib.request.urlopen(req, timeout=5))' \
  'class H(http.server.BaseHTTPRequestHandler):' \
  '    def send(self, code, out):' \
  '        data = json.dumps(out).encode()' \
  '        self.send_response(code); self.send_header("Content-Type", "application/json"); self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)' \
  '    def do_GET(self):' \
  '        self.send(200, {"status": "ok", "role": "llm_server" if role == "llm" else "agent", "pid": os.getpid(), "instance_id": "i-stub"})' \
  '    def do_POST(self):' \
  '        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")' \
  '        if role == "llm" and self.path == "/v1/identity":' \
  '            return self.send(200, identity(body["nonce"]))' \
  '        if role == "agent" and "probe" in body:' \
  '            return self.send(200, {"instance_id": "i-stub", "agent_pid": os.getpid(), "llm_url": llm, "identity": relay(body["probe"])})' \
  '        if role == "agent":' \
  '            return self.send(200, {"instance_id": "i-stub", "reply": "Done.", "steps": 1})' \
  '        self.send(404, {"error": {"message": "no such route"}})' \
  '    def log_message(self, *args):' \
  '        pass' \
  'http.server.ThreadingHTTPServer(("0.0.0.0", port), H).serve_forever()' \
  > /tmp/stub.py
