#!/usr/bin/env bash
# A real Prometheus server scrapes a running gateway and must report, through its HTTP API, the request count the
# gateway itself reports for one endpoint template.
#   scripts/prometheus-scrape.sh METRICS_PORT ROUTE_TEMPLATE EXPECTED_COUNT
# Runs Prometheus on loopback with a generated configuration (1 s scrape interval) and a temporary storage directory,
# waits at most 30 s for the series, and stops Prometheus by its pid. Called by scripts/aot-smoke.sh against the native
# binary; .ci/run installs Debian's prometheus package.
set -euo pipefail
cd "$(dirname "$0")/.."
metrics_port=$1 route=$2 expected=$3

command -v prometheus >/dev/null || { echo "FAIL: prometheus is not installed (apt-get install prometheus; .ci/run does)" >&2; exit 1; }
dir=$(mktemp -d)
prometheus_pid=
stop() {
  if [ -n "$prometheus_pid" ]; then kill "$prometheus_pid" 2>/dev/null || true; wait "$prometheus_pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap stop EXIT

cat >"$dir/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: gateway
    metrics_path: /__stats/metrics
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
YAML
api_port=$(python3 scripts/free-port.py)
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" --web.listen-address="127.0.0.1:$api_port" \
  >out/prometheus.log 2>&1 &
prometheus_pid=$!

query="sum(gateway_server_request_duration_seconds_count{http_route=\"$route\"})"
value=
for _ in $(seq 1 60); do
  sleep 0.5
  answer=$(curl -s --get --data-urlencode "query=$query" "http://127.0.0.1:$api_port/api/v1/query" || true)
  value=$(printf '%s' "$answer" | python3 -c 'import json, sys
try:
    result = json.load(sys.stdin)["data"]["result"]
    print(result[0]["value"][1] if result else "")
except Exception:
    print("")')
  [ "$value" = "$expected" ] && break
done
if [ "$value" != "$expected" ]; then
  echo "FAIL: Prometheus answered '$value' for $query, expected $expected" >&2
  echo "--- prometheus log"; tail -20 out/prometheus.log
  exit 1
fi
echo "prometheus: $query = $value, scraped from 127.0.0.1:$metrics_port"

# The process and runtime series come with the same scrape: the binary's open files and allocated bytes are there.
for series in process_open_fds dotnet_gc_heap_total_allocated_bytes_total process_resident_memory_bytes; do
  answer=$(curl -s --get --data-urlencode "query=$series" "http://127.0.0.1:$api_port/api/v1/query" || true)
  value=$(printf '%s' "$answer" | python3 -c 'import json, sys
try:
    result = json.load(sys.stdin)["data"]["result"]
    print(result[0]["value"][1] if result else "")
except Exception:
    print("")')
  if ! python3 -c "import sys; sys.exit(0 if float('${value:-0}') > 0 else 1)"; then
    echo "FAIL: Prometheus has no positive $series ('$value')" >&2
    exit 1
  fi
  echo "prometheus: $series = $value"
done
