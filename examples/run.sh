#!/usr/bin/env bash
# Builds the native gateway from examples/hotels/krakend.json, starts the example backend on 127.0.0.1:8000 and
# the gateway on :8080, shows a chained response, then keeps both running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${GATEWAY_PORT:-8080}
echo "==> building the native gateway with the example configuration compiled in"
dotnet publish src/Gateway.Host -c Release -p:GatewayConfig=examples/hotels/krakend.json -o out/example --nologo -v quiet
echo "==> building the example backend"
dotnet build examples/backend -c Release -o out/example-backend --nologo -v quiet

pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop EXIT
trap 'exit 130' INT TERM

out/example-backend/ExampleBackend --urls http://127.0.0.1:8000 >out/example-backend.log 2>&1 &
pids+=($!)
out/example/gateway --port "$port" &
pids+=($!)

for _ in $(seq 1 100); do
  if curl -fs "http://127.0.0.1:$port/__health" >/dev/null && curl -fs -o /dev/null http://127.0.0.1:8000/hotels/25; then break; fi
  sleep 0.1
done

echo
echo "==> curl localhost:$port/hotel-destinations/25   (hotel, then its destination: a sequential chain)"
curl -s -i "http://localhost:$port/hotel-destinations/25"
echo
echo
echo "Also try: curl localhost:$port/hotels/7/overview   (two backends in parallel, merged)"
echo "     and: curl -X POST -H 'X-Guest: Ana' localhost:$port/hotels/25/book   (a POST body built from two earlier responses)"
echo "The gateway (pid ${pids[1]}) and the backend (pid ${pids[0]}) run until Ctrl-C."
wait
