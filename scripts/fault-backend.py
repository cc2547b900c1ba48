#!/usr/bin/env python3
"""A loopback backend for the native checks of scripts/aot-smoke.sh.

GET /whoami answers {"x_forwarded_for": "<the X-Forwarded-For it received>"}.
GET /profile answers a 4 KB JSON object with an ETag, a cookie and an internal header.
GET /jwks.json answers the key set of tests/aot/jwks.json (auth/validator).
POST /token answers a client-credentials token when the request carries the smoke test's client (auth/client-credentials).
GET /bearer answers {"authorization": "<the Authorization it received>"}.
GET /large answers a 15 MB JSON object (perf/load/stall.py): {"count": N, "items": [N small objects], "last": true}.
Any other GET answers 200 with a chunked body of 200 MiB (one '{' then spaces), written as fast as the reader takes
it, until the reader closes the connection (the memory-bound check). Usage: fault-backend.py PORT
"""
import base64
import os
import http.server
import json
import socketserver
import sys

CHUNK = b" " * 65536
LARGE = []  # built on first use: the 15 MB body of /large
FRAME = b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        form = self.rfile.read(length).decode()
        expected = "Basic " + base64.b64encode(b"smoke:smoke-secret").decode()
        if self.path == "/token" and self.headers.get("Authorization") == expected and "grant_type=client_credentials" in form:
            return self.answer({"access_token": "smoke-token", "token_type": "Bearer", "expires_in": 3600}, {})
        self.send_response(401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        if self.path == "/bearer":
            return self.answer({"authorization": self.headers.get("Authorization", "")}, {})
        if self.path == "/large":
            if not LARGE:
                item = '{"id": %d, "name": "item %d", "tags": ["a", "b\\u00e9", "c"], "price": 12.5, "nested": {"ok": true, "n": null}}'
                items = ", ".join(item % (i, i) for i in range(130_000))
                LARGE.append(('{"count": 130000, "items": [' + items + '], "last": true}').encode())
            return self.raw(LARGE[0])
        if self.path == "/whoami":
            return self.answer({"x_forwarded_for": self.headers.get("X-Forwarded-For", "")}, {})
        if self.path == "/profile":
            profile = {"id": 7, "name": "Ada", "bio": "b" * 4000}
            return self.answer(profile, {"ETag": '"v1"', "Set-Cookie": "session=1; Path=/", "X-Internal": "not for clients"})
        if self.path == "/jwks.json":
            with open(os.path.join(os.path.dirname(__file__), "..", "tests", "aot", "jwks.json"), "rb") as keys:
                return self.raw(keys.read())

        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            self.wfile.write(b"1\r\n{\r\n")
            for _ in range(3200):
                self.wfile.write(FRAME)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def raw(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def answer(self, document, headers):
        body = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 128


Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
