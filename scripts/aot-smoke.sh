#!/usr/bin/env bash
# Native-AOT smoke test: publishes the gateway with tests/aot/krakend.json using the documented publish command,
# fails on any trim/AOT warning, starts the binary against the example backend on loopback and checks a
# three-step chained request end to end, and the features of KrakenD configurations one by one. A second publish
# compiles every feature at once: that configuration, contract.json's endpoints (every core key), HTTPS with client
# certificates and syslog output; it is started and checked over mutual TLS. Stops only the processes it started.
set -euo pipefail
cd "$(dirname "$0")/.."

out=out/aot-smoke
rm -rf "$out"
mkdir -p out
echo "==> dotnet publish src/Gateway.Host -c Release -p:GatewayConfig=tests/aot/krakend.json -o $out"
dotnet publish src/Gateway.Host -c Release -p:GatewayConfig=tests/aot/krakend.json -o "$out" --nologo 2>&1 | tee out/aot-publish.log
# The configuration's observe-only telemetry namespaces (GW3002) and its KrakenD 1.x name (GW3003) warn by design;
# any other warning fails.
unexpected_warnings() { grep -E "warning (IL[0-9]+|CS[0-9]+|GW[0-9]+)" "$1" | grep -vE "warning GW300[23]:"; }
if unexpected_warnings out/aot-publish.log; then
  echo "FAIL: the native publish reported warnings" >&2
  exit 1
fi
test -x "$out/gateway" || { echo "FAIL: $out/gateway was not produced" >&2; exit 1; }

# Every feature at once must compile natively too, without a trim/AOT warning: tests/aot/krakend.json, the endpoints of
# contract.json (every core key; their backends keep contract.json's host), the root's tls with mutual TLS (the
# certificates are made below) and telemetry/logging to syslog. The file is put together here, so the two sources stay
# the only copies.
mkdir -p out/aot-all-tls
python3 - tests/aot/krakend.json tests/Gateway.EndToEnd.Tests/Configs/contract.json out/aot-all.json <<'PY'
import json, sys
smoke, contract = (json.load(open(path)) for path in sys.argv[1:3])
for endpoint in contract["endpoints"]:
    for backend in endpoint["backend"]:
        backend.setdefault("host", contract["host"])
    smoke["endpoints"].append(endpoint)
smoke["echo_endpoint"] = smoke["debug_endpoint"] = True
smoke["extra_config"]["router"].update(contract["extra_config"]["router"])
smoke["extra_config"]["telemetry/logging"].update({"syslog": True, "stdout": True})
smoke["tls"] = {"public_key": "out/aot-all-tls/server.pem", "private_key": "out/aot-all-tls/server.key", "min_version": "TLS12",
                "enable_mtls": True, "ca_certs": ["out/aot-all-tls/ca.pem"], "disable_system_ca_pool": True}
json.dump(smoke, open(sys.argv[3], "w"), indent=1)
PY
echo "==> dotnet publish with out/aot-all.json (every feature at once)"
dotnet publish src/Gateway.Host -c Release -p:GatewayConfig=out/aot-all.json -o out/aot-all --nologo 2>&1 | tee out/aot-all.log
if unexpected_warnings out/aot-all.log || grep -E ": error " out/aot-all.log; then
  echo "FAIL: the native publish of every feature at once reported warnings or errors" >&2
  exit 1
fi
test -x out/aot-all/gateway || { echo "FAIL: out/aot-all/gateway was not produced" >&2; exit 1; }
size=$(stat -c %s "$out/gateway")
echo "binary: $out/gateway, $((size / 1024 / 1024)) MiB"

dotnet build examples/backend -c Release -o out/aot-backend --nologo -v quiet

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

backend_port=$(python3 scripts/free-port.py)
out/aot-backend/ExampleBackend --urls "http://127.0.0.1:$backend_port" >out/aot-backend.log 2>&1 &
pids+=($!)
faults_port=$(python3 scripts/free-port.py)
python3 scripts/fault-backend.py "$faults_port" >out/aot-faults.log 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$backend_port/hotels/25" && break; sleep 0.1; done

# Shared rate limits need Redis: Debian's redis-server on loopback, nothing saved (scripts/test.sh installs it as root).
redis_port=$(python3 scripts/free-port.py)
if command -v redis-server >/dev/null; then
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >out/aot-redis.log 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
else
  echo "redis-server is not installed: the shared rate limit check is skipped (requests are let through while Redis cannot answer)"
fi
export GATEWAY_RATELIMIT_REDIS="127.0.0.1:$redis_port"

# "sd": "dns": a name server on loopback answers the SRV record of /discovered/{id} with the example backend.
dns_port=$(python3 scripts/free-port.py)
python3 scripts/dns-srv.py "$dns_port" _hotels._tcp.gateway.test "$backend_port" >out/aot-dns.log 2>&1 &
pids+=($!)
export GATEWAY_DNS_SERVER="127.0.0.1:$dns_port"

gateway_port=$(python3 scripts/free-port.py)
start_ns=$(date +%s%N)
# OTEL_SDK_DISABLED: this instance runs without the configuration's metrics exporter (a second one below has them).
OTEL_SDK_DISABLED=true GATEWAY_BACKEND_HOSTS="http://hotels.internal:8000=http://127.0.0.1:$backend_port,http://faults.internal:9000=http://127.0.0.1:$faults_port" \
  "$out/gateway" --port "$gateway_port" --listen-ip 127.0.0.1 >out/aot-gateway.log 2>&1 &
gateway_pid=$!
pids+=($gateway_pid)
for _ in $(seq 1 500); do curl -fs -o /dev/null "http://127.0.0.1:$gateway_port/__health" && break; sleep 0.01; done
ready_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
echo "gateway answered /__health ${ready_ms} ms after start"

fail() { echo "FAIL: $*" >&2; echo "--- gateway log"; cat out/aot-gateway.log; exit 1; }

headers=$(mktemp)
body=$(curl -s -D "$headers" "http://127.0.0.1:$gateway_port/chain/25")
grep -qi '^HTTP/1.1 200' "$headers" || fail "chain: expected 200, got $(head -1 "$headers")"
grep -qi '^X-KrakenD-Completed: true' "$headers" || fail "chain: expected X-KrakenD-Completed: true"
expected='{"hotel":{"id": 25, "name": "Hotel Miramar", "stars": 4, "destination_id": "barcelona", "address": {"street": "Passeig de Colom 12", "city": "Barcelona"}, "price_from": 129.50},"destination":{"id": "barcelona", "name": "Barcelona", "country": "ES", "timezone": "Europe/Madrid", "highlights": ["Sagrada Família", "Park Güell", "La Barceloneta"]},"rates":{"currency": "EUR", "nightly": 129.50, "available": true}}'
[ "$body" = "$expected" ] || fail "chain body differs:
  got      $body
  expected $expected"

status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$gateway_port/chain/999")
[ "$status" = 500 ] || fail "unknown hotel: expected 500, got $status"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$gateway_port/nowhere")
[ "$status" = 404 ] || fail "unknown path: expected 404, got $status"
body=$(curl -s "http://127.0.0.1:$gateway_port/both/7")
case "$body" in *'"rates":{"currency": "EUR", "nightly": 310.00, "available": false}'*) ;; *) fail "parallel body: $body" ;; esac

# A circuit breaker in front of a healthy backend lets the call through.
body=$(curl -s "http://127.0.0.1:$gateway_port/guarded/25")
case "$body" in *'"name": "Hotel Miramar"'*) ;; *) fail "breaker-guarded backend: $body" ;; esac

# modifier/martian: a response modifier of a backend.
modified=$(curl -s -D - -o /dev/null "http://127.0.0.1:$gateway_port/modified/25")
grep -qi '^x-modified: martian' <<<"$modified" || fail "martian response modifier: $modified"

# security/cors: the gateway answers a preflight itself, and marks an allowed origin's answer.
preflight=$(curl -s -o /dev/null -D - -X OPTIONS -H 'Origin: https://app.example.test' -H 'Access-Control-Request-Method: GET' \
  -H 'Access-Control-Request-Headers: x-tenant' "http://127.0.0.1:$gateway_port/chain/25")
case "$preflight" in *"HTTP/1.1 204"*) ;; *) fail "CORS preflight status: $preflight" ;; esac
grep -qi '^access-control-allow-origin: https://app.example.test' <<<"$preflight" || fail "CORS preflight headers: $preflight"
grep -qi '^access-control-max-age: 3600' <<<"$preflight" || fail "CORS preflight max age: $preflight"
cors=$(curl -s -o /dev/null -D - -H 'Origin: https://evil.example.test' "http://127.0.0.1:$gateway_port/chain/25")
if grep -qi '^access-control-allow-origin' <<<"$cors"; then fail "CORS allowed an origin it does not list: $cors"; fi

# router: automatic OPTIONS (no Origin: not a CORS preflight), the configured 404 body, a trailing-slash redirect,
# a path cleaned before routing.
options=$(curl -s -o /dev/null -D - -X OPTIONS "http://127.0.0.1:$gateway_port/chain/25")
case "$options" in *"HTTP/1.1 200"*) ;; *) fail "auto_options status: $options" ;; esac
grep -qi '^allow: GET' <<<"$options" || fail "auto_options Allow: $options"
body=$(curl -s "http://127.0.0.1:$gateway_port/nowhere")
[ "$body" = '{"error":"no such endpoint"}' ] || fail "router.error_body 404: $body"
redirect=$(curl -s -o /dev/null -D - "http://127.0.0.1:$gateway_port/chain/25/")
case "$redirect" in *"HTTP/1.1 301"*) ;; *) fail "trailing-slash redirect: $redirect" ;; esac
grep -qi '^location: /chain/25' <<<"$redirect" || fail "trailing-slash redirect target: $redirect"
status=$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "http://127.0.0.1:$gateway_port//chain//25")
[ "$status" = 200 ] || fail "remove_extra_slash: expected 200, got $status"

# "sd": "dns": the hotels backend found through its SRV record (asked when the gateway starts).
for _ in $(seq 1 50); do
  body=$(curl -s "http://127.0.0.1:$gateway_port/discovered/25")
  case "$body" in *'"name": "Hotel Miramar"'*) break ;; esac
  sleep 0.1
done
case "$body" in *'"name": "Hotel Miramar"'*) ;; *) fail "sd dns backend: $body" ;; esac

# auth/client-credentials: the backend receives the token scripts/fault-backend.py issued.
body=$(curl -s "http://127.0.0.1:$gateway_port/credentialed")
[ "$body" = '{"authorization": "Bearer smoke-token"}' ] || fail "client credentials: $body"

# Request templates and proxy-chain in the native binary.
body=$(curl -s -X POST "http://127.0.0.1:$gateway_port/book/25")
case "$body" in *'"received": {"hotel_id":25,"note":"at Hotel Miramar"}, "hotel_header": "25"'*) ;; *) fail "templated booking body: $body" ;; esac
body=$(curl -s -X POST -H 'Content-Type: application/json' -d '{"cart":[1]}' "http://127.0.0.1:$gateway_port/checkout")
case "$body" in *'"received": {"cart":[1],"customer_tier":"gold"}'*) ;; *) fail "proxy-chain body: $body" ;; esac

# Lua in the native binary: the P/Invoke path into liblua54.so next to the binary, KrakenD's propagate-body pattern
# (a no-op first step's whole body sent by a lua-backend pre script), a post script with the standard library, and a
# script that never ends stopped by its instruction budget while the gateway keeps serving.
[ -f "$out/liblua54.so" ] || fail "liblua54.so is not next to the native binary"
body=$(curl -s -X POST "http://127.0.0.1:$gateway_port/lua-book/25")
case "$body" in *'"name":"Hotel Miramar"'*'"hotel_header":"25","scripted":"YES"'*) ;; *) fail "Lua propagate-body booking: $body" ;; esac
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$gateway_port/lua-loop")
[ "$status" = 500 ] || fail "a Lua loop that never ends: expected 500 within the budget, got $status"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$gateway_port/chain/25")
[ "$status" = 200 ] || fail "after a runaway Lua script the gateway still serves: got $status"

# router: the client's address from a trusted proxy (curl connects from 127.0.0.1, which the configuration trusts).
body=$(curl -s -H 'X-Forwarded-For: 198.51.100.7, 203.0.113.9' "http://127.0.0.1:$gateway_port/whoami")
[ "$body" = '{"x_forwarded_for": "203.0.113.9"}' ] || fail "client address from a trusted proxy: $body"

# Compression and gateway/response: brotli and gzip by Accept-Encoding, the listed backend headers only.
plain=$(mktemp); packed=$(mktemp)
curl -s -o "$plain" "http://127.0.0.1:$gateway_port/profile"
for coding in gzip br; do
  head=$(curl -s -D - -o "$packed" -H "Accept-Encoding: $coding" "http://127.0.0.1:$gateway_port/profile")
  grep -qi "^content-encoding: $coding" <<<"$head" || fail "$coding: no Content-Encoding: $head"
  grep -qi '^vary: accept-encoding' <<<"$head" || fail "$coding: no Vary: $head"
  grep -qi "^content-length: $(stat -c %s "$packed")" <<<"$head" || fail "$coding: Content-Length is not the compressed length: $head"
  grep -qi '^etag: W/"v1"' <<<"$head" || fail "$coding: the relayed ETag, made weak: $head"
  grep -qi '^set-cookie: session=1; Path=/' <<<"$head" || fail "$coding: the relayed cookie: $head"
  if grep -qi '^x-internal' <<<"$head"; then fail "$coding: a header the endpoint does not list was relayed: $head"; fi
  [ "$(stat -c %s "$packed")" -lt "$(($(stat -c %s "$plain") / 4))" ] || fail "$coding: $(stat -c %s "$packed") bytes for $(stat -c %s "$plain")"
done
curl -s -o "$packed" -H 'Accept-Encoding: gzip' "http://127.0.0.1:$gateway_port/profile"
python3 -c 'import gzip, sys; sys.exit(gzip.decompress(open(sys.argv[1], "rb").read()) != open(sys.argv[2], "rb").read())' "$packed" "$plain" \
  || fail "the gzip answer does not decompress to the uncompressed one"
head=$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip, br' "http://127.0.0.1:$gateway_port/chain/25")
if grep -qi '^content-encoding' <<<"$head"; then fail "an answer under the threshold was compressed: $head"; fi
rm -f "$plain" "$packed"
# auth/validator: an HS256 token signed here, its key from a JWKS file and from a JWKS URL; a claim in the URL.
jwt() {
  python3 - "$1" "$2" <<'PY'
import base64, hashlib, hmac, json, sys, time
b64 = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode()
header = b64(json.dumps({"alg": sys.argv[2], "typ": "JWT", "kid": "aot-smoke"}).encode())
claims = b64(json.dumps({"sub": "u-1", "aud": "aot", "hotel_id": 25, "exp": int(time.time()) + 300}).encode())
signature = hmac.new(sys.argv[1].encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
print(f"{header}.{claims}." + ("" if sys.argv[2] == "none" else b64(signature)))
PY
}
token=$(jwt gateway-aot-smoke-test-secret-32 HS256)
for path in /mine /mine-remote; do
  body=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$gateway_port$path")
  case "$body" in *'"name": "Hotel Miramar"'*) ;; *) fail "JWT-protected $path: $body" ;; esac
done
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$gateway_port/mine")
[ "$status" = 401 ] || fail "JWT: no token: expected 401, got $status"
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(jwt another-secret-of-thirty-two-byte HS256)" "http://127.0.0.1:$gateway_port/mine")
[ "$status" = 401 ] || fail "JWT: another secret: expected 401, got $status"
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(jwt x none)" "http://127.0.0.1:$gateway_port/mine-remote")
[ "$status" = 401 ] || fail "JWT: alg none: expected 401, got $status"

# qos/ratelimit/proxy: the second call to the metered backend is not made; the answer is incomplete.
status=$(curl -s -o /dev/null -D - "http://127.0.0.1:$gateway_port/metered/25" | grep -i '^x-krakend-completed' | tr -d '\r')
[ "$status" = "X-KrakenD-Completed: true" ] || fail "backend rate limit, first call: $status"
status=$(curl -s -o /dev/null -D - "http://127.0.0.1:$gateway_port/metered/25" | grep -i '^x-krakend-completed' | tr -d '\r')
[ "$status" = "X-KrakenD-Completed: false" ] || fail "backend rate limit, second call: $status"

# qos/ratelimit/router shared in Redis: two requests an hour per key, spent across two instances of the binary.
if command -v redis-server >/dev/null; then
  second_port=$(python3 scripts/free-port.py)
  OTEL_SDK_DISABLED=true GATEWAY_BACKEND_HOSTS="http://hotels.internal:8000=http://127.0.0.1:$backend_port" \
    "$out/gateway" --port "$second_port" --listen-ip 127.0.0.1 >out/aot-gateway-2.log 2>&1 &
  pids+=($!)
  for _ in $(seq 1 500); do curl -fs -o /dev/null "http://127.0.0.1:$second_port/__health" && break; sleep 0.01; done
  limited() { curl -s -o /dev/null -w '%{http_code}' -H "X-Api-Key: $2" "http://127.0.0.1:$1/limited/25"; }
  statuses="$(limited "$gateway_port" k1) $(limited "$second_port" k1) $(limited "$gateway_port" k1) $(limited "$second_port" k1) $(limited "$second_port" k2)"
  [ "$statuses" = "200 200 429 429 200" ] || fail "shared rate limit: expected 200 200 429 429 200, got $statuses"
  retry=$(curl -s -o /dev/null -D - -H "X-Api-Key: k1" "http://127.0.0.1:$gateway_port/limited/25" | grep -i '^retry-after' | tr -d '\r')
  case "$retry" in "Retry-After: "[0-9]*) ;; *) fail "shared rate limit: no Retry-After ($retry)" ;; esac
fi

# Memory stays bounded under many concurrent oversized answers (docs/compatibility.md, limits): 48 clients at once,
# twice, each answered by a 200 MiB chunked body. Each body fails at the 16 MiB limit without buffering past it, and
# the gateway-wide budget (128 MiB by default) bounds what is held at once, however many arrive.
rss_mib() { awk -v key="$1:" '$1 == key { print int($2 / 1024) }' "/proc/$gateway_pid/status"; }
rss_before=$(rss_mib VmRSS)
for wave in 1 2; do
  statuses=$(seq 48 | xargs -P 48 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 "http://127.0.0.1:$gateway_port/big" | sort | uniq -c | tr -s ' \n' ' ')
  [ "$statuses" = " 48 500 " ] || fail "oversized answers, wave $wave: expected 48 x 500, got$statuses"
done
rss_peak=$(rss_mib VmHWM)
echo "memory: RSS ${rss_before} MiB before, peak ${rss_peak} MiB over 2 x 48 concurrent 200 MiB answers (budget 128 MiB)"
[ $((rss_peak - rss_before)) -le 384 ] || fail "RSS grew by $((rss_peak - rss_before)) MiB (bound: 3 x the 128 MiB budget)"
curl -fs -o /dev/null "http://127.0.0.1:$gateway_port/chain/25" || fail "the gateway stopped answering after the oversized answers"

# The same binary validates configurations without a rebuild.
"$out/gateway" check tests/aot/krakend.json >out/aot-check.log || fail "gateway check rejected a valid config: $(cat out/aot-check.log)"
broken=$(mktemp --suffix=.json)
printf '{\n  "version": 3,\n  "endpoints": [{"endpoint": "/a", "backend": [{"url_pattern": "/x/{nope}", "host": ["http://h"]}]}]\n}\n' >"$broken"
set +e
"$out/gateway" check "$broken" >out/aot-check.log
code=$?
set -e
rm -f "$broken"
[ "$code" = 1 ] || fail "gateway check on a broken config: expected exit 1, got $code"
grep -q "(3,68): error GW1008: " out/aot-check.log || fail "gateway check output: $(cat out/aot-check.log)"

# Logs, metrics and traces in the native binary: a second instance with JSON logs and the metrics on a port given on the
# command line (replacing the configuration's exporter), scraped by a real Prometheus server.
grep -q "GET /chain/{id} 200 " out/aot-gateway.log || fail "no access log line for /chain/{id}"
if grep -q "Gateway.Access: GET /__health " out/aot-gateway.log; then fail "router.logger_skip_paths: /__health was logged"; fi
telemetry_port=$(python3 scripts/free-port.py)
metrics_port=$(python3 scripts/free-port.py)
GATEWAY_BACKEND_HOSTS="http://hotels.internal:8000=http://127.0.0.1:$backend_port" \
  "$out/gateway" --port "$telemetry_port" --listen-ip 127.0.0.1 --log-format json --metrics-port "$metrics_port" >out/aot-telemetry.log 2>&1 &
pids+=($!)
for _ in $(seq 1 500); do curl -fs -o /dev/null "http://127.0.0.1:$telemetry_port/__health" && break; sleep 0.01; done
for id in 25 7 999; do curl -s -o /dev/null "http://127.0.0.1:$telemetry_port/chain/$id"; done
curl -s -o /dev/null "http://127.0.0.1:$telemetry_port/nowhere"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$telemetry_port/__stats/metrics")
[ "$status" = 404 ] || fail "the metrics have a port of their own; the gateway's port answered $status"
own=$(curl -s "http://127.0.0.1:$metrics_port/__stats/metrics" | awk '/^gateway_server_request_duration_seconds_count\{.*http_route="\/chain\/\{id\}"/ { s += $NF } END { print s + 0 }')
[ "$own" = 3 ] || fail "the gateway's own scrape counts $own requests to /chain/{id}, expected 3"
scripts/prometheus-scrape.sh "$metrics_port" "/chain/{id}" 3 || fail "Prometheus did not scrape the native gateway"
sleep 0.2
python3 - out/aot-telemetry.log <<'PY' || fail "the JSON log of the native binary: $(head -5 out/aot-telemetry.log)"
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
access = [l for l in lines if l.get("event") == "access"]
assert any(l["endpoint"] == "/chain/{id}" and l["status"] == 200 and l["completed"] == "true" and l["backends_called"] == 3 for l in access), access
assert any(l["endpoint"] == "(unmatched)" and l["status"] == 404 for l in access), access
assert not any("/nowhere" in json.dumps(l) or "/chain/25" in json.dumps(l) for l in lines), "a raw path was logged"
PY

# Every feature at once, natively: HTTPS that requires a client certificate from the configured authority, and the log
# on a syslog socket (a unix datagram socket listened to here).
openssl_certificate() { # NAME USAGE: a key and a certificate the smoke test's authority issues
  openssl req -newkey rsa:2048 -nodes -keyout "out/aot-all-tls/$1.key" -out "out/aot-all-tls/$1.csr" -subj "/CN=$1" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=%s\n' "$2" >"out/aot-all-tls/$1.ext"
  openssl x509 -req -in "out/aot-all-tls/$1.csr" -CA out/aot-all-tls/ca.pem -CAkey out/aot-all-tls/ca.key -CAcreateserial \
    -out "out/aot-all-tls/$1.pem" -days 2 -extfile "out/aot-all-tls/$1.ext" 2>/dev/null
}
openssl req -x509 -newkey rsa:2048 -nodes -keyout out/aot-all-tls/ca.key -out out/aot-all-tls/ca.pem -days 2 -subj "/CN=aot-smoke-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl_certificate server serverAuth
openssl_certificate client clientAuth
syslog_socket="$PWD/out/aot-all-syslog.sock"
rm -f "$syslog_socket" out/aot-all-syslog.log
python3 - "$syslog_socket" out/aot-all-syslog.log <<'PY' &
import socket, sys
listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
listener.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as log:
    while True:
        log.write(listener.recv(65536) + b"\n")
PY
pids+=($!)
for _ in $(seq 1 100); do [ -S "$syslog_socket" ] && break; sleep 0.02; done
all_port=$(python3 scripts/free-port.py)
OTEL_SDK_DISABLED=true GATEWAY_BACKEND_HOSTS="http://hotels.internal:8000=http://127.0.0.1:$backend_port,http://faults.internal:9000=http://127.0.0.1:$faults_port" \
  out/aot-all/gateway --port "$all_port" --listen-ip 127.0.0.1 --syslog-socket "$syslog_socket" >out/aot-all-gateway.log 2>&1 &
pids+=($!)
mtls() { curl -s --cacert out/aot-all-tls/ca.pem --cert out/aot-all-tls/client.pem --key out/aot-all-tls/client.key "$@"; }
for _ in $(seq 1 500); do mtls -f -o /dev/null "https://127.0.0.1:$all_port/__health" && break; sleep 0.01; done
body=$(mtls "https://127.0.0.1:$all_port/chain/25")
case "$body" in *'"destination":{"id": "barcelona"'*) ;; *) fail "every feature at once, over mutual TLS: $body (log: $(cat out/aot-all-gateway.log))" ;; esac
if curl -s -o /dev/null --cacert out/aot-all-tls/ca.pem "https://127.0.0.1:$all_port/chain/25"; then
  fail "mutual TLS: a client without a certificate was served"
fi
sleep 0.2
# telemetry/logging's default facility local3 (19), informational (6): priority 158.
grep -q '^<158>1 .* gateway [0-9]* - - .*GET /chain/{id} 200 ' out/aot-all-syslog.log || fail "no syslog access line: $(head -3 out/aot-all-syslog.log)"
echo "every feature at once: served over mutual TLS, logged to syslog"

# An HTTPS backend: .NET's client and its TLS, trusting the smoke test's authority through SSL_CERT_FILE. Three calls:
# the second and third reuse the pooled connection.
tls_backend_port=$(python3 scripts/free-port.py)
python3 - "$tls_backend_port" out/aot-all-tls/server.pem out/aot-all-tls/server.key <<'PY' >out/aot-tls-backend.log 2>&1 &
import http.server, ssl, sys
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b'{"id": 25, "name": "Hotel Miramar", "over": "tls"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[2], sys.argv[3])
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
PY
pids+=($!)
for _ in $(seq 1 200); do curl -s -o /dev/null --cacert out/aot-all-tls/ca.pem "https://127.0.0.1:$tls_backend_port/" && break; sleep 0.02; done
tls_port=$(python3 scripts/free-port.py)
OTEL_SDK_DISABLED=true SSL_CERT_FILE=out/aot-all-tls/ca.pem GATEWAY_BACKEND_HOSTS="http://hotels.internal:8000=https://127.0.0.1:$tls_backend_port" \
  "$out/gateway" --port "$tls_port" --listen-ip 127.0.0.1 >out/aot-gateway-tls-backend.log 2>&1 &
pids+=($!)
for _ in $(seq 1 500); do curl -fs -o /dev/null "http://127.0.0.1:$tls_port/__health" && break; sleep 0.01; done
for call in 1 2 3; do
  body=$(curl -s "http://127.0.0.1:$tls_port/passthrough/25")
  case "$body" in *'"over": "tls"'*|*'"over":"tls"'*) ;; *) fail "HTTPS backend, call $call: $body (log: $(cat out/aot-gateway-tls-backend.log))" ;; esac
done
echo "HTTPS backend: 3 calls answered over TLS"

echo "AOT smoke: 1 passed, 0 failed"
