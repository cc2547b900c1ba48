#!/usr/bin/env python3
"""A/B load comparison of two builds of the gateway: a base revision against the working tree, side by side.

    python3 perf/load/ab.py --base REV [--rounds 5] [--duration 5] [--header 'Accept-Encoding: br']
    python3 perf/load/ab.py --base HEAD --config lua.json --scenario "lua=/propagate/lua/25" --scenario "template=/propagate/template/25"

Publishes the native gateway with perf/load/krakend.json twice: from REV (checked out in a temporary git worktree,
removed afterwards) and from the working tree. Starts one static nginx backend, then for every scenario of the load
harness runs wrk against both builds in alternating rounds, each pinned to the same CPU, and reports the medians of
requests/s and of CPU time per 10k requests (the figure that matters: requests/s saturates on the load generator's
core), with the ratio working tree / base (each --variant NAME="ARGS" runs the working tree's build once more with
extra gateway arguments, leading NAME=value words being environment variables, in the same alternating rounds, with a
column of its own: --variant off="--no-access-log"), and the bytes each answer took on the wire (headers included). --header
adds a request header to every request of both builds (a compressed reading: 'Accept-Encoding: gzip'). Everything runs
on loopback, bounded by --duration; every process it starts is stopped by its id.
"""
import argparse
import os
import re
import shlex
import statistics
import subprocess
import tempfile

import run

SCENARIOS = [
    ("passthrough small JSON", "/passthrough/small"),
    ("passthrough 2 KB", "/passthrough/2k"),
    ("passthrough 20 KB", "/passthrough/20k"),
    ("parallel aggregation (2 backends)", "/aggregate/25"),
    ("sequential chain (2 steps)", "/chain/25"),
    ("sequential chain (3 steps, shaping)", "/chain3/25"),
]


def publish(source, output, config):
    run.log(f"publishing {output.name} from {source} with perf/load/{config}")
    subprocess.run(["dotnet", "publish", "src/Gateway.Host", "-c", "Release", f"-p:GatewayConfig={run.LOAD / config}",
                    "-o", str(output), "--nologo", "-v", "quiet"], cwd=source, check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="git revision to compare the working tree with")
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="", help="run only the scenarios whose name contains this text")
    parser.add_argument("--header", action="append", default=[], help="a request header for every request, e.g. 'Accept-Encoding: gzip' (repeatable)")
    parser.add_argument("--reuse-builds", action="store_true",
                        help="measure the builds the previous run left in out/perf/ab-base and ab-head instead of publishing again (same --base, unchanged tree)")
    parser.add_argument("--config", default="krakend.json", help="the configuration under perf/load/ both builds compile (default krakend.json)")
    parser.add_argument("--scenario", action="append", default=[], metavar="NAME=PATH",
                        help="measure these paths instead of the harness's scenarios (repeatable; for another --config)")
    parser.add_argument("--paired", action="store_true",
                        help="load every build at the same time (one wrk each, the connections shared out) and compare their CPU per request "
                             "round by round: both meet the machine in the same state, which the alternating runs cannot ensure on a noisy host")
    parser.add_argument("--args", default="", metavar='"ARGS"',
                        help="extra gateway arguments for every build and variant, leading NAME=value words being environment variables "
                             "(a traced reading: --args \"--otlp-endpoint http://127.0.0.1:9 --otlp-protocol http/protobuf\")")
    parser.add_argument("--variant", action="append", default=[], metavar='NAME="ARGS"',
                        help="also run the working tree's build with these extra gateway arguments (repeatable)")
    args = parser.parse_args()

    run.OUT.mkdir(parents=True, exist_ok=True)
    run.ensure_tools()
    builds = {"base": run.OUT / "ab-base", "head": run.OUT / "ab-head"}
    if args.reuse_builds and all((build / "gateway").exists() for build in builds.values()):
        run.log("reusing the builds in out/perf/ab-base and out/perf/ab-head")
    else:
        with tempfile.TemporaryDirectory() as scratch:
            worktree = f"{scratch}/base"
            subprocess.run(["git", "worktree", "add", "--detach", "-q", worktree, args.base], cwd=run.ROOT, check=True)
            try:
                publish(worktree, builds["base"], args.config)
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", worktree], cwd=run.ROOT, check=True)
        publish(run.ROOT, builds["head"], args.config)

    # Every system measured: a build, the extra arguments it runs with and its environment.
    def split(text):
        """Gateway arguments and the environment: leading NAME=value words are variables."""
        words = shlex.split(text)
        env = dict(w.split("=", 1) for w in words if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w))
        return [w for w in words if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w)], env

    common, common_env = split(args.args)
    systems = {name: (build, common, {**os.environ, **common_env}) for name, build in builds.items()}
    for variant in args.variant:
        name, _, text = variant.partition("=")
        extra, env = split(text)
        systems[name] = (builds["head"], common + extra, {**os.environ, **common_env, **env})

    results = {}
    try:
        backend_port = run.free_port()
        run.start(["nginx", "-c", str(run.nginx_config("backend", backend_port, run.backend_body(backend_port)))], run.LOAD_CPU, "backend")
        run.wait_http(backend_port, "/hotels/25")
        ports, processes = {}, {}
        for name, (build, extra, env) in systems.items():
            ports[name] = run.free_port()
            processes[name] = run.start([str(build / "gateway"), "--port", str(ports[name]), "--listen-ip", "127.0.0.1",
                                         "--backend-host", f"http://backend.perf:8000=http://127.0.0.1:{backend_port}"] + extra,
                                        run.SUT_CPU, f"ab-{name}", env=env)
            run.wait_http(ports[name], "/__health")

        scenarios = [tuple(s.split("=", 1)) for s in args.scenario] or SCENARIOS
        for scenario, path in scenarios:
            if args.only not in scenario:
                continue
            run.log(scenario)
            rows = {name: [] for name in systems}
            if args.paired:
                measure_paired(systems, processes, ports, path, args, rows)
            else:
                for round_index in range(args.rounds):
                    order = list(systems) if round_index % 2 == 0 else list(reversed(systems))
                    for name in order:
                        rows[name].append(run.measure(name, processes[name], ports[name], path, args))
            ratios = [h["cpu_s_per_10k"] / b["cpu_s_per_10k"] for b, h in zip(rows["base"], rows["head"])]
            results[scenario] = {name: {
                "rps": statistics.median(r["rps"] for r in rows[name]),
                "cpu": statistics.median(r["cpu_s_per_10k"] for r in rows[name]),
                "errors": sum(r["errors"] for r in rows[name]),
                "bytes": statistics.median(r["bytes_per_response"] for r in rows[name]),
            } for name in systems}
            results[scenario]["ratios"] = ratios
    finally:
        run.stop_all()

    if args.header:
        print(f"\nrequest headers: {'; '.join(args.header)}")
    if args.paired:
        print("\nPaired: the builds loaded at the same time, each with its own wrk; the ratio is the median of the rounds' ratios.")
    print(f"\n| scenario | base req/s | head req/s | base CPU s/10k | head CPU s/10k | CPU head/base | per round | base bytes/answer | head bytes/answer |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for scenario, by in results.items():
        base, head, ratios = by["base"], by["head"], by["ratios"]
        ratio = statistics.median(ratios) if args.paired else head["cpu"] / base["cpu"]
        print(f"| {scenario} | {base['rps']:.0f} | {head['rps']:.0f} | {base['cpu']:.3f} | {head['cpu']:.3f} | {ratio:.3f} | {min(ratios):.3f}-{max(ratios):.3f} | {base['bytes']:.0f} | {head['bytes']:.0f} |"
              + (f" errors {base['errors']}/{head['errors']}" if base["errors"] or head["errors"] else ""))
    for name in [n for n in systems if n not in builds]:
        print(f"\n{name}: " + "; ".join(f"{scenario}: {by[name]['rps']:.0f} req/s, CPU {by[name]['cpu']:.3f} s/10k, "
                                         f"{by[name]['cpu'] / by['base']['cpu']:.3f} x base" for scenario, by in results.items()))


def measure_paired(systems, processes, ports, path, args, rows):
    """Rounds in which every build serves its own wrk at the same time, the connections shared out (run.rounds_together)."""
    targets = {name: (processes[name], ports[name], path) for name in systems}
    for measured in run.rounds_together(targets, args, args.rounds, max(1, args.connections // len(systems))):
        for name in systems:
            result = measured[name]
            rows[name].append({"rps": result["requests"] / (result["duration_us"] / 1e6), "cpu_s_per_10k": result["cpu_us_per_request"] / 100,
                               "errors": result["socket_errors"] + result["non2xx"], "bytes_per_response": result["bytes"] / result["requests"]})
        run.log("  " + "  ".join(f"{name} CPU {rows[name][-1]['cpu_s_per_10k'] * 100:.1f} us/req" for name in systems)
                + f"  head/base {rows['head'][-1]['cpu_s_per_10k'] / rows['base'][-1]['cpu_s_per_10k']:.3f}")

if __name__ == "__main__":
    main()
