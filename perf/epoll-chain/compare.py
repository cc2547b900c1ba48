#!/usr/bin/env python3
"""The 2-step chain served three ways, CPU per request side by side (perf/README.md, "A raw epoll loop").

    python3 perf/epoll-chain/compare.py [--rounds 4] [--duration 4]

The native gateway as the load harness builds it (out/perf/gateway, published here when missing) with its access log off,
nginx + Lua (perf/load/lua-peer.conf.in) and this directory's raw epoll loop, each pinned to CPU 1, loaded in turn by
wrk (32 connections, CPU 0, beside the nginx backend), --rounds times. Reports each system's CPU time per request
(user + system, /proc), requests/s, how busy its core and the load core were, and the ratios within each round. Every
process it starts is stopped by its id.
"""
import argparse
import os
import pathlib
import re
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "perf" / "load"))
import run  # noqa: E402  (the harness's helpers: processes, nginx configurations, CPU ticks)

PATH = "/chain/25"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=int, default=4, help="seconds per measured run")
    args = parser.parse_args()
    run.OUT.mkdir(parents=True, exist_ok=True)
    run.ensure_tools()
    if not (run.OUT / "gateway" / "gateway").exists():
        subprocess.run(["dotnet", "publish", "src/Gateway.Host", "-c", "Release", "-p:GatewayConfig=perf/load/krakend.json",
                        "-o", str(run.OUT / "gateway"), "--nologo", "-v", "quiet"], cwd=ROOT, check=True)
    subprocess.run(["dotnet", "publish", str(HERE / "epoll-chain.csproj"), "-c", "Release", "-o", str(HERE / "bin" / "publish"),
                    "--nologo", "-v", "quiet"], check=True)
    try:
        backend_port = run.free_port()
        run.start(["nginx", "-c", str(run.nginx_config("backend", backend_port, run.backend_body(backend_port)))], run.LOAD_CPU, "backend")
        run.wait_http(backend_port, "/hotels/25")
        ports = {name: run.free_port() for name in ("gateway", "nginx+lua", "epoll loop")}
        gateway = run.start([str(run.OUT / "gateway" / "gateway"), "--port", str(ports["gateway"]), "--listen-ip", "127.0.0.1", "--no-access-log",
                             "--backend-host", f"http://backend.perf:8000=http://127.0.0.1:{backend_port}"], run.SUT_CPU, "gateway")
        lua = run.start(["nginx", "-c", str(run.nginx_config("lua", ports["nginx+lua"], run.proxy_body(ports["nginx+lua"], backend_port,
                         (run.LOAD / "lua-peer.conf.in").read_text()), ("ndk_http_module.so", "ngx_http_lua_module.so")))], run.SUT_CPU, "lua")
        loop = run.start([str(HERE / "bin" / "publish" / "epoll-chain"), str(ports["epoll loop"]), str(backend_port)], run.SUT_CPU, "epoll-chain")
        for name, port in ports.items():
            run.wait_http(port, "/__health" if name == "gateway" else PATH)
        pids = {"gateway": [gateway.pid], "nginx+lua": run.process_tree(lua.pid), "epoll loop": [loop.pid]}
        for name, port in ports.items():
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}{PATH}", timeout=5).read()
            assert b'"destination"' in body and b'"Hotel Miramar"' in body, f"{name}: {body[:200]!r}"
            run.wrk(port, PATH, argparse.Namespace(connections=32), 2)  # warm-up
        rows = {name: [] for name in ports}
        for round_ in range(args.rounds):
            for name, port in ports.items():
                before, load_before = sum(run.cpu_split(pids[name])), run.core_ticks(run.LOAD_CPU)
                result = run.wrk(port, PATH, argparse.Namespace(connections=32), args.duration)
                after, load_after = sum(run.cpu_split(pids[name])), run.core_ticks(run.LOAD_CPU)
                requests = result["requests"]
                rows[name].append({"cpu_us": 1e6 * (after - before) / requests, "rps": requests / args.duration,
                                   "busy": (after - before) / args.duration,
                                   "load": (load_after[0] - load_before[0]) / max(1, load_after[1] - load_before[1])})
            line = "  ".join(f"{name} {rows[name][-1]['cpu_us']:.1f} µs" for name in ports)
            print(f"round {round_ + 1}: {line}", flush=True)
    finally:
        run.stop_all()

    print()
    print("| system | CPU µs / req (median) | per round | ÷ gateway (per round) | ÷ nginx+Lua (per round) | req/s | its core busy | load core busy |")
    print("| --- | ---: | --- | --- | --- | ---: | ---: | ---: |")
    for name, runs in rows.items():
        cpu = [r["cpu_us"] for r in runs]
        vs = lambda other: [a / b for a, b in zip(cpu, (r["cpu_us"] for r in rows[other]))]
        span = lambda values: f"{min(values):.2f}-{max(values):.2f}"
        print(f"| {name} | {statistics.median(cpu):.1f} | {min(cpu):.1f}-{max(cpu):.1f} | {span(vs('gateway'))} | {span(vs('nginx+lua'))} | "
              f"{statistics.median(r['rps'] for r in runs):.0f} | {statistics.median(r['busy'] for r in runs):.0%} | "
              f"{statistics.median(r['load'] for r in runs):.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
