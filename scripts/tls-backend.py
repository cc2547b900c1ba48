#!/usr/bin/env python3
"""The example backend's GET documents over HTTPS, for the image test's TLS check (scripts/image-test.sh).

GET /hotels/{id}, /destinations/{id}, /rates/{id} answer examples/backend/data/<collection>/<id>.json, as the example
backend does. Usage: tls-backend.py PORT CERT.pem KEY.pem (listens on 127.0.0.1 only).
"""
import http.server
import os
import socketserver
import ssl
import sys

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "backend", "data")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        file = None
        if len(parts) == 2 and parts[0] in ("hotels", "destinations", "rates"):
            file = os.path.join(DATA, parts[0], os.path.basename(parts[1]) + ".json")
        if file is None or not os.path.isfile(file):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(file, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", int(sys.argv[1])), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[2], sys.argv[3])
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
