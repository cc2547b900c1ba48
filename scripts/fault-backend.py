#!/usr/bin/env python3
"""A loopback backend for the native memory-bound check in scripts/aot-smoke.sh.

GET /big answers 200 with a chunked body of 200 MiB (one '{' then spaces), written as fast as the reader takes it,
until the reader closes the connection. GET /jwks.json answers the key set of tests/aot/jwks.json (auth/validator).
Usage: fault-backend.py PORT
"""
import os
import http.server
import socketserver
import sys

CHUNK = b" " * 65536
FRAME = b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/jwks.json":
            with open(os.path.join(os.path.dirname(__file__), "..", "tests", "aot", "jwks.json"), "rb") as keys:
                body = keys.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return

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

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 128


Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
