#!/usr/bin/env python3
"""A representative subset of the fault matrix (docs/reliability.md), against the Native-AOT binary, on loopback.

Usage: native-matrix.py GATEWAY_BINARY
The binary must be compiled from tests/aot/krakend.json (scripts/aot-smoke.sh publishes it): its /matrix/ endpoints are
the shapes of tests/Gateway.EndToEnd.Tests/Configs/matrix.json (1 s timeout), their backends served by
scripts/matrix-backend.py. Each fault is tried in every shape, with the expectations of FaultMatrixTests:

- parallel: 200, X-KrakenD-Completed false and the healthy backend's data only (or true and the faulty data when the
  row succeeds);
- sequence: the same with the first step's data, and the third backend not called when the faulty step fails;
- proxy-chain: the row's status (502 or 504) with {"error": "proxy-chain service 1 of 1 ..."}, and the endpoint's
  backend not called.

After every row the gateway must have closed every connection to the faulty backend. Then a client goes away in the
middle of a sequence and of a proxy-chain service (the backend call must be cancelled at once, nothing after it
called), and the quick rows run three more times: the gateway's open files and resident memory stay flat. Last, a
gateway started with a limit of 128 descriptors is given more connections than that: it must answer a waiting request
once some close. Every wait is bounded; the script stops only the processes it started.
"""
import http.client
import json
import os
import socket
import subprocess
import sys
import time

GATEWAY = sys.argv[1] if len(sys.argv) > 1 else "out/aot-smoke/gateway"
SCRIPTS = os.path.dirname(os.path.abspath(__file__))
BIG_STRING = 10 * 1024 * 1024

# mode, fails, the faulty group's data when it succeeds, the proxy-chain status and error (FaultModes.cs's rows)
ROWS = [
    ("reset-before-headers", True, None, 502, "could not be reached"),
    ("reset-mid-body", True, None, 502, "could not be read"),
    ("truncated-chunked", True, None, 502, "could not be read"),
    ("silence", True, None, 504, "did not answer in time"),
    ("oversized", True, None, 502, "answered with a body that is too large"),
    ("declared-oversized", True, None, 502, "answered with a body that is too large"),
    ("invalid-utf8", True, None, 502, "did not answer with a JSON object"),
    ("deep-nesting", True, None, 502, "did not answer with a JSON object"),
    ("array", True, None, 502, "did not answer with a JSON object"),
    ("big-string", False, "big-string", 200, None),
    ("duplicate-keys", False, '{"k": 1, "k": 2}', 200, None),
]
QUICK = [row for row in ROWS if row[0] != "silence"]
results = {"passed": 0, "failed": 0}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None, timeout=15):
    """(status, headers, body bytes) on a new connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"} if body is not None else {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def wait_until(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def stop(process):
    """Ends a process this script started: SIGTERM, then SIGKILL after 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def check(name, action):
    try:
        action()
        results["passed"] += 1
        print(f"ok   {name}")
    except AssertionError as e:
        results["failed"] += 1
        print(f"FAIL {name}: {e}")
    except Exception as e:  # a crash of the check itself counts as a failure with its reason
        results["failed"] += 1
        print(f"FAIL {name}: {type(e).__name__}: {e}")


class Matrix:
    def __init__(self):
        self.backend_port = free_port()
        self.backend = subprocess.Popen([sys.executable, os.path.join(SCRIPTS, "matrix-backend.py"), str(self.backend_port)])
        if not wait_until(lambda: self.stats_or_none() is not None, 10):
            raise RuntimeError("scripts/matrix-backend.py did not answer within 10 s")
        self.port = free_port()
        hosts = f"http://faulty.test:8080=http://127.0.0.1:{self.backend_port},http://healthy.test:8080=http://127.0.0.1:{self.backend_port}"
        self.log = open("out/native-matrix-gateway.log", "w")
        self.gateway = subprocess.Popen([GATEWAY, "--port", str(self.port), "--listen-ip", "127.0.0.1"],
                                        env=dict(os.environ, GATEWAY_BACKEND_HOSTS=hosts, OTEL_SDK_DISABLED="true"),
                                        stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_until(self.healthy, 10):
            raise RuntimeError("the gateway did not answer /__health within 10 s")

    def healthy(self):
        try:
            return request(self.port, "GET", "/__health", timeout=1)[0] == 200
        except OSError:
            return False

    def stats_or_none(self):
        try:
            return json.loads(request(self.backend_port, "GET", "/__stats", timeout=1)[2])
        except OSError:
            return None

    def stats(self):
        return json.loads(request(self.backend_port, "GET", "/__stats", timeout=5)[2])

    def nothing_left(self):
        """Every connection to the faulty backend closed, those the gateway gave up on included."""
        assert wait_until(lambda: self.stats()["faulty_open"] == 0, 10), f"connections to the faulty backend still open: {self.stats()['faulty_open']}"

    def usage(self):
        """The gateway's open file descriptors and resident memory (MiB)."""
        files = len(os.listdir(f"/proc/{self.gateway.pid}/fd"))
        rss = next(int(line.split()[1]) for line in open(f"/proc/{self.gateway.pid}/status") if line.startswith("VmRSS:"))
        return files, rss // 1024

    def stop(self):
        stop(self.gateway)
        stop(self.backend)
        self.log.close()


def merged(body, fails, faulty, **healthy):
    document = json.loads(body)
    for group, data in healthy.items():
        assert document.get(group) == data, f"{group}: {document.get(group)!r}, expected {data!r}"
    if fails:
        assert "faulty" not in document, "a failed step contributed data"
    elif faulty == "big-string":
        assert len(document["faulty"]["s"]) == BIG_STRING, f"the 10 MB string came back with {len(document['faulty']['s'])} characters"
    else:
        # Compared as text: the body is relayed as the backend wrote it (duplicate keys included).
        start = body.index(b'"faulty"')
        assert faulty.replace(" ", "").encode() in body[start:].replace(b" ", b""), f"the faulty data is not relayed as written: {body[start:start + 80]!r}"


def parallel(m, mode, fails, faulty):
    status, headers, body = request(m.port, "GET", f"/matrix/parallel/{mode}")
    assert status == 200, f"{status} {body[:200]!r}"
    assert headers.get("x-krakend-completed") == ("false" if fails else "true"), f"X-KrakenD-Completed: {headers.get('x-krakend-completed')}"
    merged(body, fails, faulty, healthy={"b": 2})
    m.nothing_left()


def sequence(m, mode, fails, faulty):
    last_before = m.stats()["last"]
    status, headers, body = request(m.port, "GET", f"/matrix/sequence/{mode}")
    assert status == 200, f"{status} {body[:200]!r}"
    assert headers.get("x-krakend-completed") == ("false" if fails else "true"), f"X-KrakenD-Completed: {headers.get('x-krakend-completed')}"
    if fails:
        merged(body, fails, faulty, first={"b": 2})
        assert m.stats()["last"] == last_before, "the step after the failed one was called"
    else:
        merged(body, fails, faulty, first={"b": 2}, last={"last": True})
        assert m.stats()["last"] == last_before + 1, "the step after the faulty one was not called once"
    m.nothing_left()


def chain(m, mode, chain_status, chain_error):
    last_before = m.stats()["last"]
    status, headers, body = request(m.port, "POST", f"/matrix/chain/{mode}", body=b"{}")
    assert status == chain_status, f"{status}, expected {chain_status}: {body[:200]!r}"
    if chain_status == 200:
        assert headers.get("x-krakend-completed") == "true", f"X-KrakenD-Completed: {headers.get('x-krakend-completed')}"
        assert json.loads(body) == {"last": True}, body[:200]
        assert m.stats()["last"] == last_before + 1, "the endpoint's backend was not called once"
    else:
        assert headers.get("x-krakend-completed") == "false", f"X-KrakenD-Completed: {headers.get('x-krakend-completed')}"
        assert json.loads(body) == {"error": f"proxy-chain service 1 of 1 {chain_error}"}, body[:200]
        assert m.stats()["last"] == last_before, "the endpoint's backend was called after its service failed"
    m.nothing_left()


def client_goes_away(m, method, path, rest):
    before = m.stats()
    with socket.create_connection(("127.0.0.1", m.port), timeout=5) as client:
        client.sendall(f"{method} {path} HTTP/1.1\r\nHost: g\r\n{rest or chr(13) + chr(10)}".encode())
        assert wait_until(lambda: m.stats()["held_arrived"] > before["held_arrived"], 10), "the held request did not reach the backend"
    gone = time.monotonic()
    # The endpoint's timeout is 20 s and the backend holds for 30 s: only the client's going away can close the call soon.
    assert wait_until(lambda: m.stats()["held_released"] > before["held_released"], 5), "the backend call outlived its client by 5 s"
    print(f"     backend connection closed {1000 * (time.monotonic() - gone):.0f} ms after the client went away")
    assert m.stats()["last"] == before["last"], "a step after the cancelled one was called"
    m.nothing_left()


def quick_round(m):
    for mode, *_ in QUICK:
        request(m.port, "GET", f"/matrix/parallel/{mode}")
        request(m.port, "GET", f"/matrix/sequence/{mode}")
        request(m.port, "POST", f"/matrix/chain/{mode}", body=b"{}")
    m.nothing_left()


def repeated_rounds_flat(m):
    quick_round(m)
    files_before, rss_before = m.usage()
    rounds = []
    for _ in range(3):
        quick_round(m)
        rounds.append(m.usage())
    files_after, rss_after = rounds[-1]
    print(f"     open files {files_before} -> {', '.join(str(f) for f, _ in rounds)}; RSS {rss_before} MiB -> {', '.join(str(r) for _, r in rounds)} MiB")
    assert files_after <= files_before + 24, f"open files {files_before} -> {files_after}"
    assert rss_after <= rss_before + 64, f"RSS {rss_before} MiB -> {rss_after} MiB"


def descriptors_run_out(m):
    """Past its descriptor limit the gateway pauses accepting, not for good: once connections close, it serves again."""
    import resource
    port = free_port()
    limit = 128
    log = open("out/native-matrix-nofile.log", "w")
    gateway = subprocess.Popen([GATEWAY, "--port", str(port), "--listen-ip", "127.0.0.1"],
                               env=dict(os.environ, OTEL_SDK_DISABLED="true"), stdout=log, stderr=subprocess.STDOUT,
                               preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)))
    idle = []
    try:
        def health():
            try:
                return request(port, "GET", "/__health", timeout=1)[0] == 200
            except OSError:
                return False
        assert wait_until(health, 10), "the gateway with a descriptor limit did not start"
        # More idle connections than descriptors: the kernel completes them all (the backlog), the gateway takes what it can.
        for _ in range(limit + 20):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        assert wait_until(lambda: len(os.listdir(f"/proc/{gateway.pid}/fd")) >= limit - 2, 5), \
            f"{len(os.listdir(f'/proc/{gateway.pid}/fd'))} descriptors open: the limit of {limit} was not reached"
        waiting = socket.create_connection(("127.0.0.1", port), timeout=5)
        idle.append(waiting)
        waiting.sendall(b"GET /__health HTTP/1.1\r\nHost: g\r\n\r\n")
        waiting.settimeout(0.5)
        try:
            early = waiting.recv(64)
        except socket.timeout:
            early = None
        assert not early, f"answered while out of descriptors: {early!r}"
        for client in idle[:60]:
            client.close()
        waiting.settimeout(5)
        answer = waiting.recv(64)
        assert answer.startswith(b"HTTP/1.1 200"), f"after connections closed: {answer!r}"
        assert gateway.poll() is None, f"the gateway exited ({gateway.returncode})"
        assert health(), "a new connection is not served"
    finally:
        for client in idle:
            client.close()
        stop(gateway)
        log.close()


def main():
    os.makedirs("out", exist_ok=True)
    m = Matrix()
    try:
        for mode, fails, faulty, chain_status, chain_error in ROWS:
            check(f"parallel {mode}", lambda: parallel(m, mode, fails, faulty))
            check(f"sequence {mode}", lambda: sequence(m, mode, fails, faulty))
            check(f"proxy-chain {mode} -> {chain_status}", lambda: chain(m, mode, chain_status, chain_error))
        check("client goes away mid-sequence: backend call cancelled", lambda: client_goes_away(m, "GET", "/matrix/held/sequence", ""))
        check("client goes away mid-proxy-chain: service call cancelled", lambda: client_goes_away(m, "POST", "/matrix/held/chain", "Content-Length: 2\r\n\r\n{}"))
        check("quick rows three more times: open files and RSS flat", lambda: repeated_rounds_flat(m))
        check("out of descriptors: accepting pauses, then serves again once connections close", lambda: descriptors_run_out(m))
        check("the gateway still serves", lambda: parallel(m, "duplicate-keys", False, '{"k": 1, "k": 2}'))
    finally:
        m.stop()
    if results["failed"]:
        print("--- gateway log (last 40 lines)")
        print("".join(open("out/native-matrix-gateway.log").readlines()[-40:]))
    print(f"native matrix: {results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
