#!/usr/bin/env python3
"""Do large bodies stall other connections? p99 of small requests alone, then while 15 MB bodies are processed.

    python3 perf/load/stall.py [GATEWAY_BINARY ...] [--rounds 3] [--duration 10] [--large-clients 2] [--large-pause 0.25] [--variant NAME="ENV=V ..."]

Each binary must be compiled from tests/aot/krakend.json (scripts/aot-smoke.sh publishes out/aot-smoke/gateway, the
default). Backends: the example backend (hotels.internal) and scripts/fault-backend.py, whose /large is a 15 MB JSON
object that the gateway's /large endpoint reads, validates and shapes (allow) down to two members. For each binary
(and each --variant: the first binary with extra environment variables, e.g. inline="DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0"),
in alternating rounds: wrk, 8 connections, --duration seconds on /passthrough/25 alone, then again while
--large-clients clients request /large, each pausing --large-pause seconds between answers (0: back to back,
which saturates the gateway's CPU). The gateway runs pinned to one CPU as in the load harness
(--no-pin: on every CPU). Reports the medians of p50/p99/max and req/s of the small requests in both phases, and the
large requests completed. Every process it starts is stopped by its id; every run is bounded by --duration.
"""
import argparse
import http.client
import os
import pathlib
import statistics
import subprocess
import sys
import threading
import time

import run

ROOT = run.ROOT


class LargeClients:
    """Clients that request /large one after another on a kept connection, each answer checked, until stopped."""

    def __init__(self, port, count, pause):
        self.port, self.pause, self.stopped, self.done, self.wrong, self.latencies = port, pause, threading.Event(), 0, 0, []
        self.threads = [threading.Thread(target=self.loop, daemon=True) for _ in range(count)]

    def loop(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stopped.is_set():
            begin = time.monotonic()
            try:
                connection.request("GET", "/large")
                response = connection.getresponse()
                body = response.read()
                ok = response.status == 200 and body.replace(b" ", b"") == b'{"count":130000,"last":true}'
            except OSError:
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.latencies.append(time.monotonic() - begin)
            if ok:
                self.done += 1
            else:
                self.wrong += 1
            self.stopped.wait(self.pause)
        connection.close()

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        for thread in self.threads:
            thread.join(timeout=60)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gateways", nargs="*", default=[str(ROOT / "out" / "aot-smoke" / "gateway")])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--large-clients", type=int, default=2)
    parser.add_argument("--large-pause", type=float, default=0.25, help="seconds each large client waits between answers")
    parser.add_argument("--variant", action="append", default=[], metavar='NAME="ENV=VALUE ..."')
    parser.add_argument("--no-pin", action="store_true", help="run the gateway on every CPU instead of CPU 1 alone")
    args = parser.parse_args()

    run.OUT.mkdir(parents=True, exist_ok=True)
    example = ROOT / "out" / "aot-backend" / "ExampleBackend"
    if not example.exists():
        subprocess.run(["dotnet", "build", "examples/backend", "-c", "Release", "-o", str(example.parent), "--nologo", "-v", "quiet"], cwd=ROOT, check=True)
    systems = {f"{i}:{pathlib.Path(g).parent.name}": (g, {}) for i, g in enumerate(args.gateways)}
    for variant in args.variant:
        name, _, text = variant.partition("=")
        systems[name] = (args.gateways[0], dict(word.split("=", 1) for word in text.split()))

    rows = {name: {"alone": [], "large": [], "large_done": [], "large_wrong": [], "large_s": []} for name in systems}
    try:
        hotels_port, faults_port = run.free_port(), run.free_port()
        run.start([str(example), "--urls", f"http://127.0.0.1:{hotels_port}", "--Logging:LogLevel:Default=Warning"], run.LOAD_CPU, "stall-hotels")
        run.start([sys.executable, str(ROOT / "scripts" / "fault-backend.py"), str(faults_port)], run.LOAD_CPU, "stall-faults")
        run.wait_http(hotels_port, "/hotels/25")
        ports, processes = {}, {}
        for name, (binary, env) in systems.items():
            ports[name] = run.free_port()
            hosts = f"http://hotels.internal:8000=http://127.0.0.1:{hotels_port},http://faults.internal:9000=http://127.0.0.1:{faults_port}"
            cpus = ",".join(str(c) for c in range(run.CPUS)) if args.no_pin else run.SUT_CPU
            processes[name] = run.start([binary, "--port", str(ports[name]), "--listen-ip", "127.0.0.1", "--no-access-log"], cpus, f"stall-{name.replace(':', '-')}",
                                        env={**os.environ, "GATEWAY_BACKEND_HOSTS": hosts, "OTEL_SDK_DISABLED": "true", **env})
            run.wait_http(ports[name], "/__health")
            run.wait_http(ports[name], "/large")  # builds the backend's 15 MB body once

        wrk_args = argparse.Namespace(connections=args.connections, header=None)
        for round_index in range(args.rounds):
            order = list(systems) if round_index % 2 == 0 else list(reversed(systems))
            for name in order:
                run.wrk(ports[name], "/passthrough/25", wrk_args, 2)  # warm-up
                alone = run.wrk(ports[name], "/passthrough/25", wrk_args, args.duration)
                with LargeClients(ports[name], args.large_clients, args.large_pause) as large:
                    time.sleep(0.5)
                    loaded = run.wrk(ports[name], "/passthrough/25", wrk_args, args.duration)
                    done, wrong = large.done, large.wrong
                row = rows[name]
                row["alone"].append(alone)
                row["large"].append(loaded)
                row["large_done"].append(done)
                row["large_wrong"].append(wrong)
                row["large_s"].extend(large.latencies)
                run.log(f"{name:14} alone: p50 {alone['p50'] / 1000:6.2f} ms  p99 {alone['p99'] / 1000:6.2f} ms  {alone['requests'] / (alone['duration_us'] / 1e6):6.0f} req/s | "
                        f"with /large: p50 {loaded['p50'] / 1000:6.2f} ms  p99 {loaded['p99'] / 1000:6.2f} ms  p99.9 {loaded['p999'] / 1000:6.2f} ms  "
                        f"{loaded['requests'] / (loaded['duration_us'] / 1e6):6.0f} req/s; {done} large answers ({wrong} wrong)")
    finally:
        run.stop_all()

    def med(runs, key):
        return statistics.median(r[key] for r in runs)

    def rps(runs):
        return statistics.median(r["requests"] / (r["duration_us"] / 1e6) for r in runs)

    print(f"\n{args.rounds} rounds of {args.duration} s, {args.connections} connections on /passthrough/25, {args.large_clients} clients on /large "
          f"pausing {args.large_pause} s between answers, gateway {'on every CPU' if args.no_pin else 'pinned to one CPU'}; medians")
    print("| build | alone p50 ms | alone p99 ms | alone req/s | with /large p50 ms | with /large p99 ms | with /large p99.9 ms | with /large req/s | /large answers per s | /large p50 s | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, row in rows.items():
        errors = sum(r["socket_errors"] + r["non2xx"] for r in row["alone"] + row["large"]) + sum(row["large_wrong"])
        print(f"| {name} | {med(row['alone'], 'p50') / 1000:.2f} | {med(row['alone'], 'p99') / 1000:.2f} | {rps(row['alone']):.0f} | "
              f"{med(row['large'], 'p50') / 1000:.2f} | {med(row['large'], 'p99') / 1000:.2f} | {med(row['large'], 'p999') / 1000:.2f} | {rps(row['large']):.0f} | "
              f"{statistics.median(row['large_done']) / args.duration:.1f} | {statistics.median(row['large_s'] or [0]):.3f} | {errors} |")


if __name__ == "__main__":
    main()
