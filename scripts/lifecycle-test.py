#!/usr/bin/env python3
"""Graceful stop of the real gateway process, on loopback (docs/operations.md, "Stopping").

Usage: lifecycle-test.py GATEWAY_BINARY
The binary must be compiled from tests/aot/krakend.json (scripts/aot-smoke.sh publishes it): its /slow/{ms} endpoint
calls faults.internal, which this script serves itself, answering after {ms} milliseconds.

Each case starts the gateway, holds a request in flight at a slow backend, sends a signal, and checks what a client and
a load balancer see: /__ready turning 503 while /__health stays 200, the listener closing (new connections refused),
the request in flight finishing (or being cut at the shutdown timeout), and the exit code and time. Every wait is
bounded; the script stops only the processes it started.
"""
import http.client
import http.server
import json
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time

GATEWAY = sys.argv[1] if len(sys.argv) > 1 else "out/aot-smoke/gateway"
results = {"passed": 0, "failed": 0}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SlowBackend(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """GET /slow/{ms}: waits, then answers {"slept_ms": ms}. Sets `arrived` when a request is being held."""

    daemon_threads = True

    def __init__(self):
        self.arrived = threading.Event()
        backend = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                milliseconds = int(self.path.rsplit("/", 1)[-1])
                backend.arrived.set()
                time.sleep(milliseconds / 1000)
                body = json.dumps({"slept_ms": milliseconds}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def get(port, path, timeout=10):
    """(status, body) of GET path on a new connection; raises OSError when the connection fails."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def refused(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


class Gateway:
    def __init__(self, backend, *arguments):
        self.port = free_port()
        self.log = open(f"out/lifecycle-gateway-{self.port}.log", "w+")
        environment = dict(os.environ, GATEWAY_BACKEND_HOSTS=f"http://faults.internal:9000=http://127.0.0.1:{backend.server_port}")
        self.process = subprocess.Popen(
            [GATEWAY, "--port", str(self.port), "--listen-ip", "127.0.0.1", *arguments],
            env=environment, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if get(self.port, "/__health", timeout=1)[0] == 200:
                    return
            except OSError:
                time.sleep(0.02)
        raise AssertionError("the gateway did not answer /__health within 10 s")

    def signal(self, number):
        self.process.send_signal(number)
        return time.monotonic()

    def wait(self, seconds):
        return self.process.wait(timeout=seconds)

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


class InFlight(threading.Thread):
    """One request held by the slow backend; records its outcome."""

    def __init__(self, port, milliseconds):
        super().__init__(daemon=True)
        self.port, self.milliseconds = port, milliseconds
        self.status = self.body = self.error = None
        self.start()

    def run(self):
        try:
            self.status, self.body = get(self.port, f"/slow/{self.milliseconds}", timeout=30)
        except (OSError, http.client.HTTPException) as e:
            self.error = e


def case(name):
    def register(test):
        def run():
            backend = SlowBackend()
            try:
                test(backend)
                results["passed"] += 1
                print(f"  ok    {name}")
            except Exception as e:  # noqa: BLE001 - any failure of the case is reported with its log
                results["failed"] += 1
                print(f"  FAIL  {name}: {e}")
                log = getattr(e, "gateway_log", None)
                if log:
                    print("  --- gateway log\n" + log)
            finally:
                backend.shutdown()
                backend.server_close()
        cases.append(run)
        return test
    return register


cases = []


def check(condition, message, gateway=None):
    if not condition:
        error = AssertionError(message)
        if gateway is not None:
            error.gateway_log = gateway.output()
        raise error


@case("SIGTERM with a drain delay: /__ready 503 while still serving, then the listener closes, the request in flight completes, exit 0")
def drain_delay(backend):
    # Bounds are loose: a loaded 2-core machine may delay any step by a second.
    gateway = Gateway(backend, "--shutdown-delay", "3s", "--shutdown-timeout", "10s")
    try:
        check(get(gateway.port, "/__ready") == (200, '{"status":"ready"}'), "/__ready before the signal", gateway)
        held = InFlight(gateway.port, 5000)
        check(backend.arrived.wait(5), "the slow request did not reach the backend", gateway)
        sent = gateway.signal(signal.SIGTERM)

        time.sleep(0.3)
        check(get(gateway.port, "/__ready") == (503, '{"status":"draining"}'), "/__ready while draining", gateway)
        check(get(gateway.port, "/__health")[0] == 200, "/__health (liveness) while draining", gateway)
        check(time.monotonic() - sent < 2.8, "the checks during the delay took too long to mean anything", gateway)

        while not refused(gateway.port) and time.monotonic() - sent < 6:
            time.sleep(0.02)
        closed = time.monotonic() - sent
        check(refused(gateway.port), "a new connection was still accepted 6 s after SIGTERM", gateway)
        check(2.9 <= closed <= 4.5, f"the listener closed {closed:.2f} s after SIGTERM; the delay is 3 s", gateway)
        check(held.is_alive(), "the request in flight ended before the listener closed", gateway)

        code = gateway.wait(12)
        exited = time.monotonic() - sent
        held.join(5)
        check(held.error is None and held.status == 200, f"request in flight: status {held.status}, error {held.error!r}", gateway)
        check(json.loads(held.body) == {"slept_ms": 5000}, f"request in flight: body {held.body!r}", gateway)
        check(code == 0, f"exit code {code}", gateway)
        check(4.5 <= exited <= 8, f"exited {exited:.2f} s after SIGTERM; the request in flight needed about 5 s", gateway)
        check("/__ready answers 503" in gateway.output(), "the stop was not logged", gateway)
        check("were cut" not in gateway.output(), "a clean stop was logged as cut", gateway)
    finally:
        gateway.stop()


@case("SIGTERM without a delay: the listener closes at once, the request in flight completes, exit 0")
def no_delay(backend):
    gateway = Gateway(backend)
    try:
        held = InFlight(gateway.port, 3000)
        check(backend.arrived.wait(5), "the slow request did not reach the backend", gateway)
        sent = gateway.signal(signal.SIGTERM)
        while not refused(gateway.port) and time.monotonic() - sent < 3:
            time.sleep(0.01)
        closed = time.monotonic() - sent
        check(refused(gateway.port), "a new connection was still accepted 3 s after SIGTERM", gateway)
        check(closed < 2, f"the listener took {closed:.2f} s to close", gateway)
        check(held.is_alive(), "the request in flight ended before the listener closed", gateway)
        code = gateway.wait(10)
        held.join(5)
        check(held.status == 200 and json.loads(held.body) == {"slept_ms": 3000}, f"request in flight: {held.status} {held.body!r} {held.error!r}", gateway)
        check(code == 0, f"exit code {code}", gateway)
    finally:
        gateway.stop()


@case("the shutdown timeout bounds the stop: a request slower than it is cut, the process still exits 0 in time")
def timeout_cuts(backend):
    gateway = Gateway(backend, "--shutdown-timeout", "1s")
    try:
        held = InFlight(gateway.port, 8000)
        check(backend.arrived.wait(5), "the slow request did not reach the backend", gateway)
        sent = gateway.signal(signal.SIGTERM)
        code = gateway.wait(6)
        exited = time.monotonic() - sent
        held.join(5)
        check(not held.is_alive(), "the client of the cut request was left hanging", gateway)
        check(held.status is None, f"the cut request got an answer: {held.status} {held.body!r}", gateway)
        check(code == 0, f"exit code {code}", gateway)
        check(0.9 <= exited <= 4, f"exited {exited:.2f} s after SIGTERM; the shutdown timeout is 1 s", gateway)
        check("requests still in flight were cut" in gateway.output(), "the cut was not logged", gateway)
    finally:
        gateway.stop()


@case("SIGINT stops an idle gateway at once with exit code 0")
def sigint(backend):
    gateway = Gateway(backend, "--shutdown-delay", "0", "--shutdown-timeout", "15s")
    try:
        sent = gateway.signal(signal.SIGINT)
        code = gateway.wait(5)
        check(code == 0, f"exit code {code}", gateway)
        check(time.monotonic() - sent < 4, "an idle gateway took more than 4 s to stop", gateway)
    finally:
        gateway.stop()


@case("client limits reach Kestrel: header size 431, slow headers 408, slow body 408, idle keep-alive closed, connection cap")
def client_limits(backend):
    gateway = Gateway(backend, "--max-request-header-bytes", "1KiB", "--request-headers-timeout", "1s", "--keep-alive-timeout", "1s",
                      "--min-request-body-data-rate", "1000", "--max-connections", "3")
    try:
        def connect():
            return socket.create_connection(("127.0.0.1", gateway.port), timeout=10)

        with connect() as client:
            client.sendall(b"GET /__health HTTP/1.1\r\nHost: gw\r\nX-Big: " + b"a" * 1500 + b"\r\n\r\n")
            answer = client.recv(100)
        check(answer.startswith(b"HTTP/1.1 431 "), f"1.5 KB of headers over a 1 KiB limit: {answer!r}", gateway)

        with connect() as client:
            client.sendall(b"GET /__health HTTP/1.1\r\nHost: gw\r\n")  # never ends its headers
            started = time.monotonic()
            answer = client.recv(100)
            waited = time.monotonic() - started
        check(answer.startswith(b"HTTP/1.1 408 ") and 0.9 <= waited <= 4, f"unfinished headers: {answer!r} after {waited:.2f} s (timeout 1 s)", gateway)

        with connect() as client:
            client.sendall(b"POST /checkout HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
            started = time.monotonic()
            answer = b""
            try:
                while not answer and time.monotonic() - started < 15:
                    client.sendall(b" ")  # 2 bytes a second, under the 1000 B/s minimum
                    client.settimeout(0.5)
                    try:
                        answer = client.recv(100)
                    except socket.timeout:
                        pass
            except (BrokenPipeError, ConnectionResetError):
                client.settimeout(2)
                answer = client.recv(100)
        check(answer.startswith(b"HTTP/1.1 408 "), f"a trickled body: {answer!r} after {time.monotonic() - started:.2f} s", gateway)
        check("unexpected error" not in gateway.output(), "a client's slow body was logged as the gateway's error", gateway)

        with connect() as client:
            client.sendall(b"GET /__health HTTP/1.1\r\nHost: gw\r\n\r\n")
            client.recv(1000)
            started = time.monotonic()
            closed = client.recv(100) == b""
            waited = time.monotonic() - started
        check(closed and 0.9 <= waited <= 4, f"idle keep-alive connection: closed {closed} after {waited:.2f} s (timeout 1 s)", gateway)

        held = [connect() for _ in range(3)]
        time.sleep(0.3)
        with connect() as extra:
            extra.sendall(b"GET /__health HTTP/1.1\r\nHost: gw\r\n\r\n")
            try:
                refused_extra = extra.recv(100) == b""
            except ConnectionResetError:
                refused_extra = True
        held[0].sendall(b"GET /__health HTTP/1.1\r\nHost: gw\r\n\r\n")
        still = held[0].recv(100)
        for client in held:
            client.close()
        check(refused_extra, "a fourth connection was served over a cap of 3", gateway)
        check(still.startswith(b"HTTP/1.1 200 "), f"a connection within the cap: {still!r}", gateway)
    finally:
        gateway.stop()


@case("bad lifecycle and limit values are usage errors (exit 2) naming the setting, before anything listens")
def bad_values(backend):
    bad = [
        (["--shutdown-timeout", "15"], {}, "--shutdown-timeout: '15' is not a duration"),
        ([], {"GATEWAY_SHUTDOWN_DELAY": "soon"}, "GATEWAY_SHUTDOWN_DELAY: 'soon' is not a duration"),
        ([], {"GATEWAY_MAX_CONNECTIONS": "-1"}, "GATEWAY_MAX_CONNECTIONS: '-1' is not a positive whole number"),
        (["--max-request-header-bytes", "10"], {}, "--max-request-header-bytes: '10' is not a size"),
        ([], {"KRAKEND_PORT": "http"}, "KRAKEND_PORT: 'http' is not a port number"),
    ]
    for arguments, variables, expected in bad:
        finished = subprocess.run([GATEWAY, *arguments], env=dict(os.environ, **variables), capture_output=True, text=True, timeout=10)
        check(finished.returncode == 2, f"{arguments} {variables}: exit code {finished.returncode}, stderr {finished.stderr!r}")
        check(expected in finished.stderr, f"{arguments} {variables}: stderr {finished.stderr!r}")
        check("Unhandled exception" not in finished.stderr, f"{arguments} {variables}: crashed: {finished.stderr!r}")


os.makedirs("out", exist_ok=True)
print(f"lifecycle: {GATEWAY}")
for run in cases:
    run()
print(f"lifecycle: {results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
