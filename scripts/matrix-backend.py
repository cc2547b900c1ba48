#!/usr/bin/env python3
"""The fault matrix's backends for the native binary (scripts/native-matrix.py, scripts/soak.py), on one loopback port.

Speaks HTTP by hand, as tests/Gateway.EndToEnd.Tests/RawBackend.cs does, for answers a real server would never send.
The healthy host: GET or POST /ok answers {"b": 2}, /last answers {"last": true} (both keep the connection). The faulty
host: /m/{mode} misbehaves as FaultModes.cs's row of that name does (plus status-500 and garbage, for the soak's
injected faults) and ends its connection; /held receives the request and holds its answer until the gateway closes the
connection (or 30 s). GET /__stats, asked directly (not through the gateway), answers the counters as JSON:
connections open on /m/ and /held, held requests arrived and released (closed by the gateway), /last calls.
Usage: matrix-backend.py PORT
"""
import json
import socket
import socketserver
import struct
import sys
import threading
import time

OVERSIZED_CHUNKS = 17 * 16  # 17 MiB in 64 KiB chunks: past the gateway's 16 MiB response limit
CHUNK = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
BIG_STRING = b'{"s": "' + b"x" * (10 * 1024 * 1024) + b'"}'
DEEP = b'{"deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

lock = threading.Lock()
stats = {"faulty_open": 0, "held_arrived": 0, "held_released": 0, "last": 0, "faulty_requests": 0}


def count(key, delta=1):
    with lock:
        stats[key] += delta


def json_answer(body, content_type=b"application/json", close=True):
    return (b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type + b"\r\nContent-Length: " + str(len(body)).encode()
            + (b"\r\nConnection: close" if close else b"") + b"\r\n\r\n" + body)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        reader = sock.makefile("rb")
        faulty = False
        try:
            while True:
                head = self.read_head(reader)
                if head is None:
                    return
                method, target = head[0].split(" ")[:2]
                length = next((int(line.split(":", 1)[1]) for line in head[1:] if line.lower().startswith("content-length:")), 0)
                if length:
                    reader.read(length)
                path = target.split("?")[0]
                if path in ("/ok", "/last", "/__stats"):
                    if path == "/last":
                        count("last")
                    with lock:
                        document = dict(stats) if path == "/__stats" else None
                    body = json.dumps(document).encode() if document else b'{"b": 2}' if path == "/ok" else b'{"last": true}'
                    sock.sendall(json_answer(body, close=False))
                    continue
                if not faulty:
                    faulty = True
                    count("faulty_open")
                if path == "/held":
                    count("held_arrived")
                    if self.hold(sock, 30):
                        count("held_released")
                    return
                if path.startswith("/m/"):
                    count("faulty_requests")
                    self.serve_mode(sock, path[3:], target)
                    return
                sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
        except OSError:
            pass
        finally:
            if faulty:
                count("faulty_open", -1)

    @staticmethod
    def read_head(reader):
        lines = []
        while True:
            line = reader.readline(65536)
            if not line:
                return None
            line = line.rstrip(b"\r\n").decode("latin-1")
            if not line:
                return lines or None
            lines.append(line)

    @staticmethod
    def hold(sock, seconds):
        """Waits until the peer closes the connection (True) or the time is up (False)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                if not sock.recv(4096):
                    return True
            except socket.timeout:
                return False
            except OSError:
                return True
        return False

    @staticmethod
    def reset(sock):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def serve_mode(self, sock, mode, target):
        if mode == "reset-before-headers":
            self.reset(sock)
        elif mode == "reset-mid-body":
            sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a": "')
            time.sleep(0.05)
            self.reset(sock)
        elif mode == "truncated-chunked":
            sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n{"a": \r\n')
        elif mode == "silence":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
            self.hold(sock, 30)
        elif mode == "oversized":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n[\r\n")
            for _ in range(OVERSIZED_CHUNKS):
                sock.sendall(CHUNK)
            sock.sendall(b"1\r\n]\r\n0\r\n\r\n")
        elif mode == "declared-oversized":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n")
            self.hold(sock, 30)
        elif mode == "invalid-utf8":
            sock.sendall(json_answer(b'{"bad": "\xc3\x28\xff\xfe"}'))
        elif mode == "deep-nesting":
            sock.sendall(json_answer(DEEP))
        elif mode == "big-string":
            sock.sendall(json_answer(BIG_STRING))
        elif mode == "duplicate-keys":
            sock.sendall(json_answer(b'{"k": 1, "k": 2}'))
        elif mode == "array":
            sock.sendall(json_answer(b"[1, 2, 3]"))
        elif mode == "garbage":
            sock.sendall(json_answer(b'{"a": [1, 2, tru'))
        elif mode == "status-500":
            sock.sendall(b'HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 15\r\nConnection: close\r\n\r\n{"error": "no"}')
        else:
            sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512


if __name__ == "__main__":
    Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
