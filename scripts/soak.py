#!/usr/bin/env python3
"""Soak test of the Native-AOT binary (docs/reliability.md, "Soak"), on loopback.

    python3 scripts/soak.py [GATEWAY_BINARY] [--minutes 30] [--warmup 60] [--load 0.7]

The binary must be compiled from tests/aot/krakend.json (scripts/aot-smoke.sh publishes out/aot-smoke/gateway; this
script publishes it the same way when it is missing). Backends: nginx serving perf/load/data (hotels.internal; the
example backend when nginx is not installed, which then limits the maximum long before the gateway does) and
scripts/matrix-backend.py (the fault matrix's faulty.test and healthy.test).

1. Measures the maximum: wrk, 32 connections, without pauses, on the mix of /passthrough/25 (one backend), /both/25
   (parallel aggregation of two) and /chain/25 (a sequential chain of three).
2. Drives --load (0.7) of it for --warmup seconds, then --minutes measured minutes: wrk paced by a pause before each
   request on each connection (this wrk has no fixed rate), its connection count calibrated on a short run, each
   minute measured as wrk runs of --window (10) seconds: a minute's p50 and p99 are the medians of its windows', so
   that a few seconds in which the shared host stalls do not stand for the whole minute (the highest window's p99 is
   printed beside it). Beside it, at --faults (1 %) of the rate, requests whose faulty backend
   resets mid-body, hangs past the 1 s timeout, answers JSON cut short or a 500 (each must be a 200 partial answer
   with the healthy data only), and at --aborts (0.5 %) clients that go away: half a request head, a request closed
   before its answer, a reset, a sequence left while its first step is held at the backend.
3. Samples the gateway's resident memory (VmRSS) and open file descriptors every --sample seconds, the descriptors
   in two parts: client connections with the descriptors that are not sockets, and the other sockets (pooled backend
   connections, listeners).

Fails when, between the first and the last measured minute, RSS grows by more than 10 % + 16 MiB; when client
connections and other descriptors (median of the last minute) pass the first minute's highest sample by more than 32,
or the backend sockets pass theirs by more than 25 % + 32 (a pool keeps the connections of its busiest moment for their
90 s idle time, so a slow spell of the host raises it without a leak; a leak of one per fault or abort adds thousands a
minute); when, 10 s after the load ends, a client connection is still open or descriptors other than sockets are more
than before the load; when p99 (the median of the last third of the minutes' against that of the first third) grows
by more than --p99-factor (3, with 2 ms of slack) and still has once one more minute is measured and the last third
moved on by it, to tell a lasting change from a slow spell of the shared host (all are printed); when any error
appears that was not injected (a socket error, a status that is not 2xx, X-KrakenD-Completed not true on the mix, a
fault request answered otherwise than expected); or when a held backend call outlives its client. Every process it
starts is stopped by its id; every run is bounded.
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import pathlib
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "out" / "soak"
CPUS = os.cpu_count() or 1
# As the load harness (perf/load/run.py): with two cores or more, the gateway has CPU 1 to itself, the rest share CPU 0.
SUT_CPU = "1" if CPUS > 1 else "0"
LOAD_CPU = "0"
MIX = ["/passthrough/25", "/both/25", "/chain/25"]
FAULTS = ["reset-mid-body", "silence", "garbage", "status-500"]
ABORTS = ["half-head", "closed-before-answer", "reset", "held-sequence"]
RSS_TOLERANCE = (1.10, 16)  # factor, MiB
FILES_TOLERANCE = 32
BACKEND_TOLERANCE = (1.25, 32)  # factor, sockets
P99_SLACK_US = 2000

started = []
results = {"passed": 0, "failed": 0}


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(command, cpu, name, env=None):
    output = open(OUT / f"{name}.log", "w")
    process = subprocess.Popen(["taskset", "-c", cpu, *command], stdout=output, stderr=subprocess.STDOUT, env=env)
    started.append(process)
    return process


def stop_all():
    for process in reversed(started):
        if process.poll() is None:
            process.terminate()
    for process in reversed(started):
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def get(port, path, timeout=5):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def wait_ok(port, path, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if get(port, path, timeout=1)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"nothing answered 200 on 127.0.0.1:{port}{path} within {seconds} s")


def nginx_config(port):
    """The example's documents (perf/load/data, as the load harness serves them), from one nginx worker."""
    conf = OUT / "nginx.conf"
    # nginx's worker drops to "nobody" when started as root, and nobody may not be able to enter the checkout (a clone in
    # a 0700 directory, as mktemp makes): as root, the worker keeps root, so it reads perf/load/data wherever it lies.
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf.write_text(f"""{user}worker_processes 1;
daemon off;
pid {OUT}/nginx.pid;
error_log {OUT}/nginx.error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        root {ROOT / 'perf' / 'load' / 'data'};
        default_type application/json;
        location / {{ try_files $uri.json =404; }}
    }}
}}
""")
    return conf


def wrk_script(delay_ms):
    """The mix, rotating per connection; counts answers without X-KrakenD-Completed: true; one RESULT line."""
    pause = f"function delay() return {delay_ms} end\n" if delay_ms else ""
    return pause + """
local paths = {"%s"}
local threads = {}
local n = 0
incomplete = 0
function setup(thread) table.insert(threads, thread) end
function init(args) n = math.random(0, #paths - 1) end
function request()
  n = n + 1
  return wrk.format("GET", paths[n %% #paths + 1])
end
function response(status, headers, body)
  if (headers["X-KrakenD-Completed"] or headers["x-krakend-completed"]) ~= "true" then incomplete = incomplete + 1 end
end
function done(summary, latency, requests)
  local e, inc = summary.errors, 0
  for _, t in ipairs(threads) do inc = inc + t:get("incomplete") end
  io.write(string.format('\\nRESULT {"requests": %%d, "duration_us": %%d, "socket_errors": %%d, "non2xx": %%d, "incomplete": %%d, "p50": %%d, "p99": %%d, "max": %%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status, inc,
    latency:percentile(50), latency:percentile(99), latency.max))
end
""" % '", "'.join(MIX)


def wrk(port, connections, seconds, delay_ms=0):
    script = OUT / f"mix-{delay_ms}.lua"
    script.write_text(wrk_script(delay_ms))
    command = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(script),
               f"http://127.0.0.1:{port}/"]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    line = next((l for l in output.splitlines() if l.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    result = json.loads(line[len("RESULT "):])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = result["socket_errors"] + result["non2xx"] + result["incomplete"]
    return result


def windows(port, connections, seconds, window, delay_ms):
    """`seconds` of paced load as wrk runs of `window` seconds: totals summed, p50 and p99 the medians of the windows'."""
    runs = [wrk(port, connections, min(window, seconds - start), delay_ms) for start in range(0, seconds, window)]
    total = {key: sum(r[key] for r in runs) for key in ("requests", "duration_us", "socket_errors", "non2xx", "incomplete", "errors")}
    return dict(total, rps=total["requests"] / (total["duration_us"] / 1e6), p50=median(r["p50"] for r in runs),
                p99=median(r["p99"] for r in runs), p99_highest=max(r["p99"] for r in runs), max=max(r["max"] for r in runs))


class Usage(threading.Thread):
    """Samples the gateway's VmRSS (MiB) and descriptors every few seconds: (time, RSS, client connections and descriptors
    that are not sockets, other sockets)."""

    def __init__(self, pid, port, seconds):
        super().__init__(daemon=True)
        self.pid, self.port, self.seconds, self.samples, self.stopped = pid, port, seconds, [], threading.Event()

    def run(self):
        while not self.stopped.is_set():
            try:
                rss = next(int(l.split()[1]) for l in open(f"/proc/{self.pid}/status") if l.startswith("VmRSS:")) / 1024
                clients, other_sockets, not_sockets = descriptors(self.pid, self.port)
                self.samples.append((time.monotonic(), rss, clients + not_sockets, other_sockets))
            except (OSError, StopIteration):
                pass
            self.stopped.wait(self.seconds)


class Paced(threading.Thread):
    """Runs `action(kind)` at `rate` per second on a pool of workers, cycling through the kinds; records (time, kind, error)."""

    def __init__(self, rate, kinds, action, workers):
        super().__init__(daemon=True)
        self.rate, self.kinds, self.action = rate, kinds, action
        self.pool = concurrent.futures.ThreadPoolExecutor(workers)
        self.events, self.stopped = [], threading.Event()

    def run(self):
        begin, sent = time.monotonic(), 0
        while not self.stopped.is_set():
            due = begin + sent / self.rate
            if self.stopped.wait(max(due - time.monotonic(), 0)):
                break
            kind = self.kinds[sent % len(self.kinds)]
            try:
                self.pool.submit(self.record, kind)
            except RuntimeError:  # the pool was shut down (an interrupted run)
                break
            sent += 1

    def record(self, kind):
        at = time.monotonic()
        try:
            error = self.action(kind)
        except Exception as e:  # an exception is a wrong answer, with its reason
            error = f"{type(e).__name__}: {e}"
        self.events.append((at, kind, error))

    def stop(self):
        self.stopped.set()
        self.join()
        self.pool.shutdown(wait=True)


def fault_request(port):
    """A request whose faulty backend fails as `kind` says: a 200 partial answer with the healthy data only, or the reason it was not."""
    shapes = iter(range(1 << 62))

    def action(kind):
        shape = "parallel" if next(shapes) % 2 == 0 else "sequence"
        status, headers, body = get(port, f"/matrix/{shape}/{kind}", timeout=10)
        healthy = "healthy" if shape == "parallel" else "first"
        if status != 200 or headers.get("x-krakend-completed") != "false":
            return f"{shape} {kind}: {status}, X-KrakenD-Completed {headers.get('x-krakend-completed')}"
        document = json.loads(body)
        if document != {healthy: {"b": 2}}:
            return f"{shape} {kind}: {body[:120]!r}"
        return None
    return action


def abort_request(port):
    """A client that goes away; nothing is expected of the answer (the gateway must just not suffer from it)."""
    def action(kind):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            if kind == "half-head":
                client.sendall(b"GET /chain/25 HTTP/1.1\r\nHost: g\r\nX-Half: ")
            elif kind == "closed-before-answer":
                client.sendall(b"GET /chain/25 HTTP/1.1\r\nHost: g\r\n\r\n")
            elif kind == "reset":
                client.sendall(b"GET /both/25 HTTP/1.1\r\nHost: g\r\n\r\n")
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                client.sendall(b"GET /matrix/held/sequence HTTP/1.1\r\nHost: g\r\n\r\n")
                time.sleep(0.2)
        return None
    return action


def descriptors(pid, port):
    """The gateway's open descriptors: (client sockets still open on its port, other sockets, descriptors that are not sockets)."""
    inodes = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        inodes[target] = inodes.get(target, 0) + 1
    sockets = {t[len("socket:["):-1] for t in inodes if t.startswith("socket:[")}
    clients = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port, state, inode = int(fields[1].rsplit(":", 1)[1], 16), fields[3], fields[9]
            # 0A: LISTEN. Any other state on the gateway's own port is a client's connection.
            if inode in sockets and local_port == port and state != "0A":
                clients += 1
    socket_count = sum(n for t, n in inodes.items() if t.startswith("socket:["))
    return clients, socket_count - clients, sum(inodes.values()) - socket_count


def check(name, ok, detail):
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")


def median(values, default=0):
    values = list(values)
    return statistics.median(values) if values else default


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gateway", nargs="?", default=str(ROOT / "out" / "aot-smoke" / "gateway"))
    parser.add_argument("--minutes", type=int, default=30, help="measured minutes (CI: 2)")
    parser.add_argument("--warmup", type=int, default=60, help="seconds at the target rate before the first measured minute")
    parser.add_argument("--load", type=float, default=0.7, help="share of the measured maximum to drive")
    parser.add_argument("--faults", type=float, default=0.01, help="share of requests whose backend misbehaves")
    parser.add_argument("--aborts", type=float, default=0.005, help="share of requests whose client goes away")
    parser.add_argument("--sample", type=float, default=5, help="seconds between RSS and open-file samples")
    parser.add_argument("--p99-factor", type=float, default=3.0,
                        help="largest allowed p99 of the last third of the minutes / that of the first third (medians)")
    parser.add_argument("--minute", type=int, default=60, help="seconds per measured minute (shorter only to try the script)")
    parser.add_argument("--window", type=int, default=10, help="seconds per wrk run within a minute")
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    if not shutil.which("wrk") or not shutil.which("taskset"):
        print("FAIL the soak needs wrk and taskset (Debian: apt-get install wrk util-linux)")
        print("soak: 0 passed, 1 failed")
        return 1
    gateway_binary = pathlib.Path(args.gateway)
    if not gateway_binary.exists():
        log(f"publishing {gateway_binary} with tests/aot/krakend.json (as scripts/aot-smoke.sh does)")
        subprocess.run(["dotnet", "publish", "src/Gateway.Host", "-c", "Release", "-p:GatewayConfig=tests/aot/krakend.json",
                        "-o", str(gateway_binary.parent), "--nologo", "-v", "quiet"], cwd=ROOT, check=True)
    example = ROOT / "out" / "aot-backend" / "ExampleBackend"
    if not example.exists():
        subprocess.run(["dotnet", "build", "examples/backend", "-c", "Release", "-o", str(example.parent), "--nologo", "-v", "quiet"], cwd=ROOT, check=True)

    try:
        hotels_port, matrix_port, port = free_port(), free_port(), free_port()
        if shutil.which("nginx"):
            start(["nginx", "-c", str(nginx_config(hotels_port))], LOAD_CPU, "nginx-backend")
        else:
            start([str(example), "--urls", f"http://127.0.0.1:{hotels_port}", "--Logging:LogLevel:Default=Warning"], LOAD_CPU, "example-backend")
        start([sys.executable, str(ROOT / "scripts" / "matrix-backend.py"), str(matrix_port)], LOAD_CPU, "matrix-backend")
        wait_ok(hotels_port, "/hotels/25")
        wait_ok(matrix_port, "/__stats")
        hosts = ",".join(f"{configured}=http://127.0.0.1:{actual}" for configured, actual in
                         (("http://hotels.internal:8000", hotels_port), ("http://faulty.test:8080", matrix_port), ("http://healthy.test:8080", matrix_port)))
        gateway = start([str(gateway_binary), "--port", str(port), "--listen-ip", "127.0.0.1", "--no-access-log"], SUT_CPU, "gateway",
                        env=dict(os.environ, GATEWAY_BACKEND_HOSTS=hosts, OTEL_SDK_DISABLED="true"))
        wait_ok(port, "/__health")
        for path in MIX:
            status, headers, body = get(port, path)
            assert status == 200 and headers.get("x-krakend-completed") == "true", f"{path}: {status} {body[:200]!r}"

        _, _, files_before = descriptors(gateway.pid, port)
        maximum = wrk(port, 32, 8)
        target = args.load * maximum["rps"]
        log(f"maximum: {maximum['rps']:.0f} req/s on the mix (32 connections, p99 {maximum['p99'] / 1000:.1f} ms, {maximum['errors']} errors); "
            f"target {target:.0f} req/s ({args.load:.0%})")
        mix_rate = target * (1 - args.faults - args.aborts)
        # A pause of 20 ms before each request on each connection, long beside the answer's time (so that the rate moves
        # little with latency); the connection count sets the rate.
        delay_ms = 20
        connections = max(1, round(mix_rate * (delay_ms + maximum["p50"] / 1000) / 1000))
        for _ in range(2):
            trial = wrk(port, connections, 5, delay_ms)
            connections = max(1, round(connections * mix_rate / trial["rps"]))
        log(f"pacing: {connections} connections, {delay_ms} ms between requests on each (last trial {trial['rps']:.0f} req/s)")

        usage = Usage(gateway.pid, port, args.sample)
        faults = Paced(target * args.faults, FAULTS, fault_request(port), workers=64)
        aborts = Paced(target * args.aborts, ABORTS, abort_request(port), workers=32)
        for thread in (usage, faults, aborts):
            thread.start()

        log(f"warm-up: {args.warmup} s")
        warm = wrk(port, connections, args.warmup, delay_ms) if args.warmup else None
        minutes = []

        def measure(number):
            begin = time.monotonic()
            result = windows(port, connections, args.minute, args.window, delay_ms)
            end = time.monotonic()
            samples = [s for s in usage.samples if begin <= s[0] < end]
            fault_events = [e for e in faults.events if begin <= e[0] < end]
            abort_events = [e for e in aborts.events if begin <= e[0] < end]
            minute = {
                "minute": number, "rps": result["rps"], "p50_us": result["p50"], "p99_us": result["p99"],
                "p99_highest_us": result["p99_highest"], "max_us": result["max"],
                "errors": result["errors"], "socket_errors": result["socket_errors"], "non2xx": result["non2xx"], "incomplete": result["incomplete"],
                "faults": len(fault_events), "fault_errors": sum(1 for e in fault_events if e[2]), "aborts": len(abort_events),
                "rss_mib": median(s[1] for s in samples), "rss_max_mib": max((s[1] for s in samples), default=0),
                "files": median(s[2] for s in samples), "files_max": max((s[2] for s in samples), default=0),
                "backend": median(s[3] for s in samples), "backend_max": max((s[3] for s in samples), default=0),
            }
            log(f"minute {minute['minute']:2}: {minute['rps']:6.0f} req/s  p50 {minute['p50_us'] / 1000:5.1f} ms  p99 {minute['p99_us'] / 1000:5.1f} ms "
                f"(highest window {minute['p99_highest_us'] / 1000:.1f})  errors {minute['errors']}  faults {minute['faults']} ({minute['fault_errors']} wrong)  "
                f"aborts {minute['aborts']}  RSS {minute['rss_mib']:.0f} MiB  clients+files {minute['files']:.0f} (max {minute['files_max']})  "
                f"backend sockets {minute['backend']:.0f} (max {minute['backend_max']})")
            return minute

        for index in range(args.minutes):
            minutes.append(measure(index + 1))
        # p99 is judged on thirds of the run (in CI's two minutes: the first and the last): on this shared host it moves
        # by up to 3x from minute to minute without a trend, with the host's busy spells (docs/reliability.md, "Soak").
        third = max(1, len(minutes) // 3)
        early = median(m["p99_us"] for m in minutes[:third])
        late_minutes = minutes[-third:]
        p99_bound = max(early * args.p99_factor, early + P99_SLACK_US)
        # Past the bound, one more minute moves the last third on: a change in the gateway lasts, a busy spell passes.
        confirmation = None
        if len(minutes) > 1 and median(m["p99_us"] for m in late_minutes) > p99_bound:
            log(f"p99 {median(m['p99_us'] for m in late_minutes) / 1000:.1f} ms is past the bound ({p99_bound / 1000:.1f} ms): one more minute")
            confirmation = measure(len(minutes) + 1)
            late_minutes = late_minutes[1:] + [confirmation]
        late = median(m["p99_us"] for m in late_minutes)

        faults.stop()
        aborts.stop()
        usage.stopped.set()
        stats_url_port = matrix_port
        # A held call ends when its client goes away (well before the endpoint's 20 s): all of them within 5 s of the last.
        deadline = time.monotonic() + 5
        while True:
            stats = json.loads(get(stats_url_port, "/__stats")[2])
            if stats["held_arrived"] == stats["held_released"] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        alive = gateway.poll() is None and get(port, "/__health")[0] == 200
        # Every client has gone: within a few seconds the gateway holds none of their connections, and its descriptors
        # other than sockets (files, pipes, event handles) are as many as before the load. Idle pooled backend
        # connections stay open (the pool's idle timeout is 90 s), so backend sockets are not counted.
        deadline = time.monotonic() + 10
        while True:
            clients_left, backend_sockets, files_after = descriptors(gateway.pid, port)
            if (clients_left == 0 and files_after <= files_before) or time.monotonic() > deadline:
                break
            time.sleep(0.25)
    finally:
        stop_all()

    first, last = minutes[0], minutes[-1]
    print()
    print("| minute | req/s | p50 ms | p99 ms (highest window) | max ms | errors | injected faults (wrong answers) | client aborts | RSS MiB (median, max) "
          "| clients and files (median, max) | backend sockets (median, max) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for m in ([first, last] if len(minutes) > 1 else [first]) + ([confirmation] if confirmation else []):
        print(f"| {m['minute']} | {m['rps']:.0f} | {m['p50_us'] / 1000:.1f} | {m['p99_us'] / 1000:.1f} ({m['p99_highest_us'] / 1000:.1f}) | "
              f"{m['max_us'] / 1000:.1f} | {m['errors']} | {m['faults']} ({m['fault_errors']}) | {m['aborts']} | {m['rss_mib']:.0f}, {m['rss_max_mib']:.0f} | "
              f"{m['files']:.0f}, {m['files_max']} | {m['backend']:.0f}, {m['backend_max']} |")
    measured = minutes + ([confirmation] if confirmation else [])
    total = sum(m["rps"] * args.minute for m in measured)
    print(f"\n{len(measured)} minutes at {median(m['rps'] for m in measured):.0f} req/s (maximum {maximum['rps']:.0f}), {total:.0f} requests on the mix, "
          f"{len(faults.events)} injected faults, {len(aborts.events)} client aborts; held calls {stats['held_arrived']} arrived, {stats['held_released']} released")
    if len(measured) > 2:
        low, high = min(measured, key=lambda m: m["p99_us"]), max(measured, key=lambda m: m["p99_us"])
        print(f"p99 per minute from {low['p99_us'] / 1000:.1f} ms (minute {low['minute']}) to {high['p99_us'] / 1000:.1f} ms (minute {high['minute']}); "
              f"RSS from {min(m['rss_mib'] for m in measured):.0f} to {max(m['rss_mib'] for m in measured):.0f} MiB; clients and files from "
              f"{min(m['files'] for m in measured):.0f} to {max(m['files'] for m in measured):.0f}; backend sockets from "
              f"{min(m['backend'] for m in measured):.0f} to {max(m['backend'] for m in measured):.0f} (medians per minute)")
    (OUT / "minutes.json").write_text(json.dumps({"maximum": maximum, "target": target, "connections": connections, "minutes": measured,
                                                   "warmup": warm, "samples": usage.samples, "held": stats}, indent=1))

    rss_bound = first["rss_mib"] * RSS_TOLERANCE[0] + RSS_TOLERANCE[1]
    check("RSS flat", last["rss_mib"] <= rss_bound,
          f"{first['rss_mib']:.0f} MiB in the first minute, {last['rss_mib']:.0f} MiB in the last (bound {rss_bound:.0f}: +10 % + 16 MiB)")
    # The count moves with the load's own concurrency (client connections, backend calls in flight, faults held to the
    # timeout): by up to 100 from minute to minute without a trend. A leak raises it past the first minute's highest
    # sample.
    check("client connections and other descriptors flat", last["files"] <= first["files_max"] + FILES_TOLERANCE,
          f"{first['files']:.0f} in the first minute (highest {first['files_max']}), {last['files']:.0f} in the last (bound: that highest +{FILES_TOLERANCE})")
    # A pool keeps the connections of its busiest moment for their idle time: a slower minute raises them without a leak.
    backend_bound = first["backend_max"] * BACKEND_TOLERANCE[0] + BACKEND_TOLERANCE[1]
    check("backend sockets bounded", last["backend"] <= backend_bound,
          f"{first['backend']:.0f} in the first minute (highest {first['backend_max']}), {last['backend']:.0f} in the last "
          f"(bound {backend_bound:.0f}: that highest +25 % + {BACKEND_TOLERANCE[1]})")
    check("no client connection outlives its client", clients_left == 0 and files_after <= files_before,
          f"after the load: {clients_left} client sockets open, {backend_sockets} other sockets (listeners, pooled backend connections), "
          f"{files_after} other descriptors ({files_before} before the load)")
    span = lambda ms: f"minute {ms[0]['minute']}" if len(ms) == 1 else f"minutes {ms[0]['minute']}-{ms[-1]['minute']}"
    check("p99 stable", late <= p99_bound,
          f"{early / 1000:.1f} ms in {span(minutes[:third])}, {late / 1000:.1f} ms in {span(late_minutes)}" +
          f" (medians; bound {p99_bound / 1000:.1f} ms: {args.p99_factor:g}x + slack" +
          (f"; one more minute measured: {confirmation['p99_us'] / 1000:.1f} ms)" if confirmation else ")"))
    mix_errors = sum(m["errors"] for m in measured) + (warm["errors"] if warm else 0)
    check("no error on the mix", mix_errors == 0,
          f"{mix_errors} (socket {sum(m['socket_errors'] for m in measured)}, not 2xx {sum(m['non2xx'] for m in measured)}, "
          f"incomplete {sum(m['incomplete'] for m in measured)})")
    wrong = [e for e in faults.events if e[2]]
    check("injected faults answered as partial answers", not wrong and faults.events,
          f"{len(faults.events)} faults, {len(wrong)} wrong" + (f": {wrong[:3]}" if wrong else ""))
    broken = [e for e in aborts.events if e[2]]
    check("held calls cancelled with their clients", stats["held_arrived"] == stats["held_released"] and stats["held_arrived"] > 0 and not broken,
          f"{stats['held_arrived']} arrived, {stats['held_released']} released" + (f"; client errors {broken[:3]}" if broken else ""))
    check("the gateway still serves", alive, "alive and /__health 200" if alive else "stopped or /__health failed")
    print(f"soak: {results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        stop_all()
        sys.exit(130)
