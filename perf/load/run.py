#!/usr/bin/env python3
"""Load harness: the native gateway against nginx proxy_pass, nginx + Lua and YARP, side by side, on loopback.

    python3 perf/load/run.py [--duration 8] [--warmup 2] [--connections 32] [--rounds 3]

Installs what it needs (nginx, its Lua module, lua-cjson, wrk from Debian), builds the gateway with
perf/load/krakend.json and the YARP peer, starts static nginx backends, runs wrk against every system for every
scenario (--rounds times, alternating systems; medians reported), and writes a dated table, the raw numbers and a
chart to perf/results/. Every process it starts is stopped
by its id when it ends; every run is bounded by --duration.
"""
import argparse
import datetime
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
LOAD = ROOT / "perf" / "load"
OUT = ROOT / "out" / "perf"
RESULTS = ROOT / "perf" / "results"
TICKS = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count() or 1
# With two cores: the load generator and the backends share CPU 0, the system under test has CPU 1 to itself.
SUT_CPU = "1" if CPUS > 1 else "0"
LOAD_CPU = "0"

FLOOR = "nginx+lua, calls only"

SCENARIOS = [
    # name, {system: path}, peer to compare with
    ("passthrough small JSON", {"gateway": "/passthrough/small", "nginx": "/hotels/25", "yarp": "/hotels/25"}),
    ("passthrough 20 KB", {"gateway": "/passthrough/20k", "nginx": "/products-20k", "yarp": "/products-20k"}),
    # KrakenD's plain proxy (no-op: status, headers and body relayed unchecked), the same work as nginx's proxy_pass.
    ("passthrough small, no-op", {"gateway": "/passthrough/small-noop", "nginx": "/hotels/25", "yarp": "/hotels/25"}),
    ("passthrough 20 KB, no-op", {"gateway": "/passthrough/20k-noop", "nginx": "/products-20k", "yarp": "/products-20k"}),
    # FLOOR: nginx+Lua making the same backend calls with no JSON work at all (perf/load/lua-peer.conf.in, /floor/), a
    # reference for how low CPU per request goes on this host for this I/O (perf/README.md, floors).
    ("parallel aggregation (2 backends)", {"gateway": "/aggregate/25", "nginx+lua": "/aggregate/25", FLOOR: "/floor/aggregate/25"}),
    ("aggregation, 20 KB + small", {"gateway": "/aggregate20k/25", "nginx+lua": "/aggregate20k/25"}),
    ("sequential chain (2 steps)", {"gateway": "/chain/25", "nginx+lua": "/chain/25", FLOOR: "/floor/chain/25"}),
    ("sequential chain (3 steps, shaping)", {"gateway": "/chain3/25", "nginx+lua": "/chain3/25"}),
    ("dependency graph (diamond, 4 steps)", {"gateway": "/diamond/25", "nginx+lua": "/diamond/25"}),
]

started = []


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port, path="/", timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                if s.recv(12).startswith(b"HTTP/1.1 2"):
                    return True
        except OSError:
            pass
        time.sleep(0.005)
    raise RuntimeError(f"nothing answered 2xx on 127.0.0.1:{port}{path}")


def measure_startup(binary, backend_port, runs=10):
    """Start to first served /__health, median and worst of several starts, polled every half millisecond.

    Each start is pinned like the system under test and stopped by its id before the next one."""
    samples = []
    for _ in range(runs):
        port = free_port()
        begin = time.monotonic()
        proc = subprocess.Popen(["taskset", "-c", SUT_CPU, str(binary), "--port", str(port), "--listen-ip", "127.0.0.1",
                                 "--backend-host", f"http://backend.perf:8000=http://127.0.0.1:{backend_port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = begin + 10
            while time.monotonic() < deadline:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.05) as s:
                        s.sendall(b"GET /__health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                        if s.recv(12).startswith(b"HTTP/1.1 200"):
                            samples.append((time.monotonic() - begin) * 1000)
                            break
                except OSError:
                    pass
                time.sleep(0.0005)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    samples.sort()
    return samples[len(samples) // 2], samples[-1]


def start(cmd, cpu, log_name, env=None):
    logf = open(OUT / f"{log_name}.log", "w")
    proc = subprocess.Popen(["taskset", "-c", cpu] + cmd, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    started.append(proc)
    return proc


def stop_all():
    for proc in reversed(started):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in reversed(started):
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    started.clear()


def process_tree(pid):
    """The process and its children (nginx workers)."""
    pids = [pid]
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return pids + [int(c) for c in children]


def stat_ticks(path):
    """The name, user ticks and kernel ticks of a process or thread so far (comm, utime and stime of its /proc stat
    file); None once it is gone."""
    try:
        stat = open(path).read()
    except OSError:
        return None
    name, fields = stat.split("(", 1)[1].rsplit(")", 1)
    values = fields.split()
    return name, int(values[11]), int(values[12])


def cpu_split(pids):
    """User and kernel CPU seconds so far of the processes (utime and stime of /proc/PID/stat)."""
    user = kernel = 0
    for pid in pids:
        if (ticks := stat_ticks(f"/proc/{pid}/stat")) is not None:
            user += ticks[1]
            kernel += ticks[2]
    return user / TICKS, kernel / TICKS


def loop_cpu(pid):
    """CPU seconds so far of the gateway's event-loop threads (named gateway-loop-N): the rest of its CPU (thread pool,
    log writer, timers) is work that left the loop that read the request."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0
    total = 0
    for tid in tasks:
        ticks = stat_ticks(f"/proc/{pid}/task/{tid}/stat")
        if ticks is not None and ticks[0].startswith("gateway-loop"):
            total += ticks[1] + ticks[2]
    return total / TICKS


def core_ticks(cpu):
    """Busy and total ticks of one core so far (/proc/stat): busy is everything but idle and iowait."""
    for line in open("/proc/stat"):
        if line.startswith(f"cpu{cpu} "):
            values = [int(v) for v in line.split()[1:]]
            return sum(values) - values[3] - values[4], sum(values)
    return 0, 0


def peak_rss_mb(pids):
    total = 0
    for pid in pids:
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def ensure_tools():
    need = []
    if not shutil.which("nginx"):
        need += ["nginx-light"]
    if not pathlib.Path("/usr/lib/nginx/modules/ngx_http_lua_module.so").exists():
        need += ["libnginx-mod-http-lua"]
    if not pathlib.Path("/usr/share/lua/5.1/cjson").exists() and not list(pathlib.Path("/usr/lib").glob("**/lua/5.1/cjson.so")):
        need += ["lua-cjson"]
    if not shutil.which("wrk"):
        need += ["wrk"]
    if need:
        log(f"installing {' '.join(need)}")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq"] + need, check=True, env=env)


def build():
    log("publishing the native gateway with perf/load/krakend.json")
    subprocess.run(["dotnet", "publish", "src/Gateway.Host", "-c", "Release", "-p:GatewayConfig=perf/load/krakend.json",
                    "-o", str(OUT / "gateway"), "--nologo", "-v", "quiet"], cwd=ROOT, check=True)
    log("building the YARP peer (Release)")
    subprocess.run(["dotnet", "build", "perf/load/yarp", "-c", "Release", "-o", str(OUT / "yarp"), "--nologo", "-v", "quiet"], cwd=ROOT, check=True)


def nginx_config(name, port, body, modules=()):
    conf = OUT / f"{name}.conf"
    loads = "".join(f"load_module /usr/lib/nginx/modules/{m};\n" for m in modules)
    conf.write_text(f"""{loads}worker_processes 1;
daemon off;
pid {OUT}/{name}.pid;
error_log {OUT}/{name}.error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    {body}
}}
""")
    return conf


def backend_body(port):
    return f"""server {{
        listen 127.0.0.1:{port} reuseport;
        root {LOAD / 'data'};
        default_type application/json;
        location / {{ try_files $uri.json $uri =404; }}
        # Any method, its body read and dropped: the step that receives a propagated body (perf/load/lua.json).
        location = /sink {{ return 200 '{{"received": true}}'; }}
    }}"""


def proxy_body(port, backend_port, extra=""):
    return f"""upstream backend {{ server 127.0.0.1:{backend_port}; keepalive 128; }}
    lua_package_cpath "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;;";
    server {{
        listen 127.0.0.1:{port} reuseport;
        location / {{ proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }}
        {extra}
    }}""" if extra else f"""upstream backend {{ server 127.0.0.1:{backend_port}; keepalive 128; }}
    server {{
        listen 127.0.0.1:{port} reuseport;
        location / {{ proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }}
    }}"""


def wrk(port, path, args, duration):
    headers = [flag for header in getattr(args, "header", None) or [] for flag in ("-H", header)]
    cmd = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{args.connections}", f"-d{duration}s", "--latency", *headers,
           "-s", str(LOAD / "report.lua"), f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30).stdout
    line = next((l for l in out.splitlines() if l.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    return json.loads(line[len("RESULT "):])


def measure(system, proc, port, path, args):
    wrk(port, path, args, args.warmup)
    pids = process_tree(proc.pid)
    split_before = cpu_split(pids)
    loops_before = loop_cpu(proc.pid)
    load_before = core_ticks(LOAD_CPU)
    result = wrk(port, path, args, args.duration)
    split_after = cpu_split(pids)
    loops = loop_cpu(proc.pid) - loops_before
    cpu = sum(split_after) - sum(split_before)
    kernel = split_after[1] - split_before[1]
    load_after = core_ticks(LOAD_CPU)
    seconds = result["duration_us"] / 1e6
    rps = result["requests"] / seconds
    load_total = load_after[1] - load_before[1]
    row = {
        "system": system, "path": path, "rps": rps, "p50_us": result["p50"], "p99_us": result["p99"], "p999_us": result["p999"],
        "cpu_s_per_10k": cpu / result["requests"] * 10000 if result["requests"] else None,
        "cpu_us_per_request": cpu / result["requests"] * 1e6 if result["requests"] else None,
        # The kernel's part (system time: the loopback TCP path, system calls): what no user-space change removes.
        "kernel_us_per_request": kernel / result["requests"] * 1e6 if result["requests"] else None,
        # How much of its one core the system under test used, and how busy the load core (wrk and the backends) was:
        # near 100 % on the load core, requests/s measure the load generator rather than the system under test.
        "sut_core_busy": cpu / seconds,
        "load_core_busy": (load_after[0] - load_before[0]) / load_total if load_total else None,
        "peak_rss_mb": peak_rss_mb(pids), "errors": result["socket_errors"] + result["non2xx"], "requests": result["requests"],
        "bytes_per_response": result["bytes"] / result["requests"] if result["requests"] else None,
        # The gateway's CPU outside its event-loop threads: a request's work should stay on the loop that read it.
        "off_loop_share": 1 - loops / cpu if system == "gateway" and cpu else None,
    }
    cpu_text = f"{row['cpu_us_per_request']:.1f}" if row["cpu_us_per_request"] is not None else "-"
    load_text = f"{row['load_core_busy']:.0%}" if row["load_core_busy"] is not None else "-"
    kernel_text = f"{row['kernel_us_per_request']:.1f}" if row["kernel_us_per_request"] is not None else "-"
    log(f"  {system:10} CPU {cpu_text} us/req (kernel {kernel_text})  {rps:10.0f} req/s  p50 {result['p50']:6d} us  p99 {result['p99']:6d} us  "
        f"its core {row['sut_core_busy']:.0%}  load core {load_text}  errors {row['errors']}")
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=8, help="seconds measured per run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="runs per system and scenario, alternating systems; medians are reported")
    parser.add_argument("--prewarm", type=int, default=6,
                        help="seconds of load on each path of each system before any measurement (JIT peers such as YARP keep getting faster for a while)")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--only", help="run only the scenarios whose name contains this text")
    parser.add_argument("--paired-rounds", type=int, default=0,
                        help="after the alternating runs, this many rounds in which the gateway and each peer are loaded at the same time "
                             "(one wrk each, half the connections each, the same core): CPU per request compared within each round")
    args = parser.parse_args()
    if args.only:
        SCENARIOS[:] = [s for s in SCENARIOS if args.only in s[0]]
        if not SCENARIOS:
            parser.error(f"no scenario's name contains {args.only!r}")

    OUT.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    ensure_tools()
    if not args.no_build:
        build()

    try:
        backend_port = free_port()
        backend = start(["nginx", "-c", str(nginx_config("backend", backend_port, backend_body(backend_port)))], LOAD_CPU, "backend")
        wait_http(backend_port, "/hotels/25")

        ports = {name: free_port() for name in ("gateway", "nginx", "nginx+lua", "yarp")}
        begin = time.monotonic()
        gateway = start([str(OUT / "gateway" / "gateway"), "--port", str(ports["gateway"]), "--listen-ip", "127.0.0.1",
                         "--backend-host", f"http://backend.perf:8000=http://127.0.0.1:{backend_port}"], SUT_CPU, "gateway")
        wait_http(ports["gateway"], "/__health")
        first_start_ms = (time.monotonic() - begin) * 1000
        startup_ms = measure_startup(OUT / "gateway" / "gateway", backend_port)
        log(f"gateway start to first request: first start {first_start_ms:.0f} ms; median of 10 {startup_ms[0]:.1f} ms, worst {startup_ms[1]:.1f} ms")
        nginx = start(["nginx", "-c", str(nginx_config("nginx", ports["nginx"], proxy_body(ports["nginx"], backend_port)))], SUT_CPU, "nginx")
        lua = start(["nginx", "-c", str(nginx_config("lua", ports["nginx+lua"], proxy_body(ports["nginx+lua"], backend_port, (LOAD / "lua-peer.conf.in").read_text()),
                                                     ("ndk_http_module.so", "ngx_http_lua_module.so")))], SUT_CPU, "lua")
        yarp = start([str(OUT / "yarp" / "YarpPeer"), str(ports["yarp"]), f"http://127.0.0.1:{backend_port}/"], SUT_CPU, "yarp")
        # The floor is nginx+Lua's own process, on paths of its own.
        processes = {"gateway": gateway, "nginx": nginx, "nginx+lua": lua, "yarp": yarp, FLOOR: lua}
        ports[FLOOR] = ports["nginx+lua"]
        for name in ("nginx", "nginx+lua", "yarp"):
            wait_http(ports[name], "/hotels/25")
        wait_http(ports["nginx+lua"], "/chain/25")
        wait_http(ports[FLOOR], "/floor/chain/25")

        # Warm every system on every path it serves before measuring anything: a JIT peer measured after a 2 s warm-up
        # is still running unoptimised code, which would flatter the gateway (native code needs no warm-up).
        log(f"pre-warming every system on each of its paths for {args.prewarm} s")
        for _, systems in SCENARIOS:
            for system, path in systems.items():
                wrk(ports[system], path, args, args.prewarm)

        rows = []
        for scenario, systems in SCENARIOS:
            log(scenario)
            runs = {system: [] for system in systems}
            order = list(systems.items())
            for round_index in range(args.rounds):
                # Alternate who goes first, so neither system always meets the machine in the same state.
                for system, path in order[round_index % len(order):] + order[:round_index % len(order)]:
                    runs[system].append(measure(system, processes[system], ports[system], path, args))
            for system, path in systems.items():
                row = summarize(runs[system], runs["gateway"])
                row["scenario"] = scenario
                rows.append(row)

        paired = []
        if args.paired_rounds:
            log(f"paired: the gateway and each peer at the same time, {args.paired_rounds} rounds")
            for scenario, systems in SCENARIOS:
                for peer in [s for s in systems if s != "gateway"]:
                    paired.append(measure_paired(scenario, {"gateway": systems["gateway"], peer: systems[peer]}, processes, ports, args))

        # Overhead per hop at moderate load: the gateway in front of the backend vs the backend alone.
        log("overhead at moderate load (4 connections)")
        moderate = argparse.Namespace(**{**vars(args), "connections": 4})
        direct = measure("direct", backend, backend_port, "/hotels/25", moderate)
        via = measure("gateway", gateway, ports["gateway"], "/passthrough/small", moderate)
        overhead = {"direct_p50_us": direct["p50_us"], "gateway_p50_us": via["p50_us"], "overhead_p50_us": via["p50_us"] - direct["p50_us"]}
        gateway.send_signal(signal.SIGTERM)
        gateway.wait(timeout=10)
        allocated = measure_allocation(backend_port, args)
    finally:
        stop_all()

    write_results(rows, overhead, startup_ms, args, allocated, paired)


def rounds_together(targets, args, rounds, connections):
    """Rounds in which every target (name: (process, port, path)) serves its own wrk at the same time, with
    `connections` each, all on the system-under-test core: each round gives every target its CPU per request over the
    same window, so a host that moves between fast and slow states (as this one does, for tens of seconds at a time)
    moves them alike. A first round warms up and is not kept. Per kept round: name -> wrk's result plus "cpu_us_per_request"."""
    share = argparse.Namespace(**{**vars(args), "connections": connections})
    pids = {name: process_tree(process.pid) for name, (process, _, _) in targets.items()}
    kept = []
    for round_index in range(rounds + 1):
        before = {name: cpu_split(pids[name]) for name in targets}
        done = {}
        threads = [threading.Thread(target=lambda n=name, port=port, path=path: done.__setitem__(n, wrk(port, path, share, args.duration)))
                   for name, (_, port, path) in targets.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if round_index > 0:
            after = {name: cpu_split(pids[name]) for name in targets}
            kept.append({name: {**done[name], "cpu_us_per_request": (sum(after[name]) - sum(before[name])) / done[name]["requests"] * 1e6,
                                "kernel_us_per_request": (after[name][1] - before[name][1]) / done[name]["requests"] * 1e6}
                         for name in targets})
    return kept


def measure_paired(scenario, systems, processes, ports, args):
    """The gateway and one peer loaded at the same time (rounds_together), each by its own wrk with half the connections."""
    names = list(systems)
    rounds = [{name: {"cpu_us_per_request": r[name]["cpu_us_per_request"], "kernel_us_per_request": r[name]["kernel_us_per_request"], "rps": r[name]["requests"] / (r[name]["duration_us"] / 1e6),
                      "p99_us": r[name]["p99"], "errors": r[name]["socket_errors"] + r[name]["non2xx"]} for name in names}
              for r in rounds_together({name: (processes[name], ports[name], systems[name]) for name in names}, args, args.paired_rounds,
                                       max(1, args.connections // 2))]
    peer = names[1]
    ratios = sorted(r["gateway"]["cpu_us_per_request"] / r[peer]["cpu_us_per_request"] for r in rounds)

    result = {"scenario": scenario, "peer": peer, "ratio": median(ratios), "ratio_min": ratios[0], "ratio_max": ratios[-1],
              "gateway_cpu_us": median(r["gateway"]["cpu_us_per_request"] for r in rounds), "peer_cpu_us": median(r[peer]["cpu_us_per_request"] for r in rounds),
              "gateway_kernel_us": median(r["gateway"]["kernel_us_per_request"] for r in rounds), "peer_kernel_us": median(r[peer]["kernel_us_per_request"] for r in rounds),
              "gateway_rps": median(r["gateway"]["rps"] for r in rounds), "peer_rps": median(r[peer]["rps"] for r in rounds),
              "errors": sum(r[n]["errors"] for r in rounds for n in names), "rounds": rounds}
    log(f"  {scenario} against {peer}: gateway {result['gateway_cpu_us']:.1f} us/req, {peer} {result['peer_cpu_us']:.1f} us/req, "
        f"ratio {result['ratio']:.2f} ({result['ratio_min']:.2f}-{result['ratio_max']:.2f})")
    return result


def measure_allocation(backend_port, args):
    """Bytes the native gateway allocates per request on each of its paths: its managed heap's allocation counter
    (dotnet_gc_heap_total_allocated_bytes_total, GC.GetTotalAllocatedBytes) read from its metrics before and after a
    measured run. A gateway of its own with metrics on a separate port, so that the measured runs above had none."""
    port, metrics_port = free_port(), free_port()
    proc = start([str(OUT / "gateway" / "gateway"), "--port", str(port), "--listen-ip", "127.0.0.1", "--metrics-port", str(metrics_port),
                  "--metrics-listen-ip", "127.0.0.1", "--backend-host", f"http://backend.perf:8000=http://127.0.0.1:{backend_port}"], SUT_CPU, "gateway-metrics")
    wait_http(port, "/__health")

    def allocated_bytes():
        with socket.create_connection(("127.0.0.1", metrics_port), timeout=5) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            text = b""
            while chunk := s.recv(65536):
                text += chunk
        for line in text.decode("utf-8", "replace").splitlines():
            if line.startswith("dotnet_gc_heap_total_allocated_bytes_total "):
                return float(line.split()[1])
        raise RuntimeError("the gateway's metrics have no dotnet_gc_heap_total_allocated_bytes_total")

    log("bytes allocated per request (native gateway, its own allocation counter)")
    allocated = {}
    for scenario, systems in SCENARIOS:
        path = systems["gateway"]
        wrk(port, path, args, args.warmup)
        before = allocated_bytes()
        result = wrk(port, path, args, args.duration)
        after = allocated_bytes()
        allocated[scenario] = (after - before) / result["requests"] if result["requests"] else None
        log(f"  {scenario}: {allocated[scenario]:.0f} bytes per request")
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    return allocated


def median(values):
    """The middle value (the upper one of an even count), None values left out; None when there are none."""
    values = sorted(v for v in values if v is not None)
    return values[len(values) // 2] if values else None


def summarize(runs, gateway_runs):
    """One row per system: the median of its runs, and the spread of the per-round ratios against the gateway."""
    keys = ("rps", "p50_us", "p99_us", "p999_us", "cpu_s_per_10k", "cpu_us_per_request", "kernel_us_per_request", "sut_core_busy", "load_core_busy")
    row = {key: median(r[key] for r in runs) for key in keys}
    row.update(system=runs[0]["system"], path=runs[0]["path"], peak_rss_mb=max(r["peak_rss_mb"] for r in runs),
               errors=sum(r["errors"] for r in runs), requests=sum(r["requests"] for r in runs), rounds=len(runs),
               runs=[{k: r[k] for k in keys} for r in runs])
    shares = [r["off_loop_share"] for r in runs if r.get("off_loop_share") is not None]
    row["off_loop_share"] = median(shares) if shares else None
    ratios = [g["rps"] / r["rps"] for g, r in zip(gateway_runs, runs) if r["rps"]]
    row["ratio_min"], row["ratio_max"] = (min(ratios), max(ratios)) if ratios else (None, None)
    cpu_ratios = [g["cpu_us_per_request"] / r["cpu_us_per_request"] for g, r in zip(gateway_runs, runs) if r["cpu_us_per_request"]]
    row["cpu_ratio_min"], row["cpu_ratio_max"] = (min(cpu_ratios), max(cpu_ratios)) if cpu_ratios else (None, None)
    return row


def write_results(rows, overhead, startup_ms, args, allocated, paired):
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip() or "unknown"
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d-%H%M")
    name = f"{stamp}-{commit}"
    binary_mb = (OUT / "gateway" / "gateway").stat().st_size / 1024 / 1024
    lines = [
        f"# Load run {stamp} UTC, commit {commit}",
        "",
        f"wrk -t1 -c{args.connections}; every system first pre-warmed {args.prewarm} s on each of its paths; then {args.warmup} s warm-up and "
        f"{args.duration} s measured per run, {args.rounds} runs per system and scenario "
        f"(systems alternating; figures are medians); {CPUS} CPUs: system under test on CPU {SUT_CPU}, "
        f"wrk and the nginx backends on CPU {LOAD_CPU}. Loopback only. Ratios compare systems within this run (the machine is shared and noisy). "
        "The gateway runs as shipped, its access log on (a line per request, written in batches to a file); the nginx peers have "
        "access_log off and YARP has no log providers.",
        "",
        "| scenario | system | CPU µs / req | of it kernel | CPU ratio | CPU ratio per round | req/s | ratio | ratio per round | p50 µs | p99 µs | p99.9 µs | p99 ratio | its core busy | load core busy | peak RSS MB | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def percent(value):
        return format(value, ".0%") if value is not None else "—"

    for scenario, systems in SCENARIOS:
        scenario_rows = [r for r in rows if r["scenario"] == scenario]
        gateway = next(r for r in scenario_rows if r["system"] == "gateway")
        for r in scenario_rows:
            peer = r["system"] != "gateway"
            ratio = gateway["rps"] / r["rps"] if peer else None
            cpu_ratio = gateway["cpu_us_per_request"] / r["cpu_us_per_request"] if peer and r["cpu_us_per_request"] else None
            p99_ratio = gateway["p99_us"] / r["p99_us"] if peer and r["p99_us"] else None
            spread = f"{r['ratio_min']:.2f}-{r['ratio_max']:.2f}" if ratio and r.get("ratio_min") is not None else "—"
            cpu_spread = f"{r['cpu_ratio_min']:.2f}-{r['cpu_ratio_max']:.2f}" if cpu_ratio and r.get("cpu_ratio_min") is not None else "—"
            kernel = f"{r['kernel_us_per_request']:.1f}" if r.get("kernel_us_per_request") is not None else "—"
            lines.append(f"| {scenario} | {r['system']} | {r['cpu_us_per_request']:.1f} | {kernel} | {'gateway ' + format(cpu_ratio, '.2f') + '×' if cpu_ratio else '—'} | {cpu_spread} | "
                         f"{r['rps']:.0f} | {'gateway ' + format(ratio, '.2f') + '×' if ratio else '—'} | {spread} | {r['p50_us']} | {r['p99_us']} | {r['p999_us']} | "
                         f"{format(p99_ratio, '.2f') if p99_ratio else '—'} | {percent(r['sut_core_busy'])} | {percent(r['load_core_busy'])} | {r['peak_rss_mb']:.1f} | {r['errors']} |")
    lines += [
        "",
        "\"CPU µs / req\" is the system's own CPU time (user + system, /proc, the process and its workers) over the measured window divided by "
        "the requests answered: the primary figure; \"of it kernel\" is its system time alone (the loopback TCP path and the system calls, "
        "which no change in user space removes). \"CPU ratio\" is the gateway's divided by that system's (below 1: the gateway spends less); "
        "\"ratio\" is the gateway's median req/s divided by that system's (above 1: the gateway is faster); the \"per round\" columns give the "
        "lowest and highest of the ratios of runs made back to back; \"p99 ratio\" is the gateway's p99 divided by that system's (below 1: the "
        "gateway is better). \"its core busy\" is the system's CPU time over the window (1 core = 100 %); \"load core busy\" is how busy "
        f"CPU {LOAD_CPU} (wrk and the backends) was: near 100 %, requests/s are bounded by the load generator, not by the system under test.",
        "",
        f"- Gateway start to first served request (`/__health`, process creation included, polled every 0.5 ms): median {startup_ms[0]:.1f} ms, worst {startup_ms[1]:.1f} ms of 10 starts.",
        f"- Gateway binary: {binary_mb:.1f} MiB.",
        "- Bytes the gateway allocates per request (its managed heap's allocation counter over a run of its own, with metrics on): "
        + "; ".join(f"{scenario} {value:,.0f}" for scenario, value in allocated.items() if value is not None) + ".",
        f"- Overhead at moderate load (4 connections): backend direct p50 {overhead['direct_p50_us']} µs, through the gateway {overhead['gateway_p50_us']} µs: "
        f"{overhead['overhead_p50_us']} µs per hop.",
    ]
    off_loop = [(r["scenario"], r["off_loop_share"]) for r in rows if r["system"] == "gateway" and r.get("off_loop_share") is not None]
    if off_loop:
        lines.append("- The gateway's CPU outside its event-loop threads (thread pool, log writer, timers; the rest of a request's work stays on "
                     "the loop that read it): " + "; ".join(f"{scenario} {share:.1%}" for scenario, share in off_loop) + ".")
    for scenario, systems in SCENARIOS:
        by_system = {r["system"]: r for r in rows if r["scenario"] == scenario}
        if FLOOR in by_system and "nginx+lua" in by_system:
            floor, lua, gateway = by_system[FLOOR], by_system["nginx+lua"], by_system["gateway"]
            lines.append(f"- Floor, {scenario}: nginx+Lua making the same backend calls with no JSON work spends {floor['cpu_us_per_request']:.1f} µs of CPU "
                         f"per request ({floor['kernel_us_per_request']:.1f} in the kernel), {floor['cpu_us_per_request'] / lua['cpu_us_per_request']:.2f}× "
                         f"nginx+Lua's; the gateway's kernel time alone is {gateway['kernel_us_per_request'] / lua['cpu_us_per_request']:.2f}× nginx+Lua's CPU per request.")
    if paired:
        lines += [
            "",
            f"Paired ({args.paired_rounds} rounds): the gateway and the peer loaded at the same time on the same core, each by its own wrk with "
            f"{max(1, args.connections // 2)} connections; CPU per request of both over the same window, the ratio per round (gateway ÷ peer, "
            "below 1: the gateway spends less) and its median. Both meet the host in the same state, which alternating runs cannot ensure.",
            "",
            "| scenario | peer | gateway CPU µs / req | of it kernel | peer CPU µs / req | of it kernel | CPU ratio (median) | per round | gateway req/s | peer req/s | errors |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for p in paired:
            lines.append(f"| {p['scenario']} | {p['peer']} | {p['gateway_cpu_us']:.1f} | {p['gateway_kernel_us']:.1f} | {p['peer_cpu_us']:.1f} | {p['peer_kernel_us']:.1f} | {p['ratio']:.2f}× | "
                         f"{p['ratio_min']:.2f}-{p['ratio_max']:.2f} | {p['gateway_rps']:.0f} | {p['peer_rps']:.0f} | {p['errors']} |")
    lines += [
        "",
        f"![chart]({name}.svg)",
    ]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    (RESULTS / f"{name}.json").write_text(json.dumps({"rows": rows, "overhead": overhead, "startup_ms": startup_ms, "binary_mb": binary_mb, "allocated_bytes_per_request": allocated, "paired": paired}, indent=2))
    (RESULTS / f"{name}.svg").write_text(chart(rows))
    log(f"wrote perf/results/{name}.md, .json and .svg")
    print("\n".join(lines))


def chart(rows):
    """Grouped bars: requests per second of each system, per scenario."""
    colors = {"gateway": "#2b6cb0", "nginx": "#38a169", "nginx+lua": "#d69e2e", "yarp": "#805ad5", FLOOR: "#a0aec0"}
    width, bar, gap, left, top, height = 900, 26, 40, 230, 40, 0
    y = top
    parts = []
    max_rps = max(r["rps"] for r in rows)
    for scenario, systems in SCENARIOS:
        parts.append(f'<text x="10" y="{y + 16}" font-size="13" font-weight="bold">{scenario}</text>')
        y += 22
        for system in systems:
            r = next(r for r in rows if r["scenario"] == scenario and r["system"] == system)
            w = (width - left - 120) * r["rps"] / max_rps
            parts.append(f'<text x="{left - 8}" y="{y + 18}" font-size="12" text-anchor="end">{system}</text>')
            parts.append(f'<rect x="{left}" y="{y + 4}" width="{w:.1f}" height="{bar - 8}" fill="{colors[system]}"/>')
            parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 18}" font-size="12">{r["rps"]:.0f} req/s</text>')
            y += bar
        y += gap - 10
    height = y + 10
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">'
            f'<rect width="100%" height="100%" fill="white"/><text x="10" y="24" font-size="15">Requests per second (same run, loopback)</text>'
            + "".join(parts) + "</svg>")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--chart":
        # Redraw a chart from a run's raw numbers: run.py --chart perf/results/NAME.json
        data = json.loads(pathlib.Path(sys.argv[2]).read_text())
        pathlib.Path(sys.argv[2]).with_suffix(".svg").write_text(chart(data["rows"]))
        sys.exit(0)
    try:
        main()
    except KeyboardInterrupt:
        stop_all()
        sys.exit(130)
