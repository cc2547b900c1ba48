#!/usr/bin/env bash
# The container image, built and run for real (docs/operations.md, "Container image"):
#  - scripts/image.sh builds examples/hotels/krakend.json twice: both builds must give the same image id and digest;
#  - the image holds exactly the expected files (no shell), owned by root with timestamp 0, and is at most 20 MB (docs/operations.md);
#  - podman runs it the way deploy/kubernetes does (non-root, read-only root file system, no capabilities, no new
#    privileges) on the host network against the example backend on loopback: /__health, /__ready, a chained
#    endpoint, `gateway version`, the image's own HEALTHCHECK, and SIGTERM ending in exit code 0;
#  - TLS works from the scratch image: an https backend with a test CA is reached, and refused without that CA.
# Installs buildah, podman and runc with apt-get when missing (as root). Skips, saying why, only when this machine
# cannot create the namespaces any container needs. Containers and images live in out/image-test/containers, apart from
# the machine's own; it stops only what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
work=out/image-test
mkdir -p "$work"
checks=0

fail() {
  echo "FAIL: $*" >&2
  for name in "${containers[@]}"; do
    echo "--- podman logs $name" >&2
    podman logs "$name" >&2 2>/dev/null || true
  done
  exit 1
}
pass() { checks=$((checks + 1)); echo "  ok    $*"; }

# 0. The tools.
missing=()
for tool in buildah podman runc openssl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "==> installing ${missing[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >"$work/apt.log" 2>&1) || true
fi
for tool in buildah podman runc openssl; do
  command -v "$tool" >/dev/null || fail "$tool is not installed and could not be installed (Debian: apt-get install buildah podman runc openssl)"
done

# 1. Can this machine run a container at all? A container needs its own mount, PID, network, IPC and UTS namespaces
#    (and, without root, a user namespace). Where the kernel or a sandbox refuses them, no container engine can work.
probe=(unshare --mount --uts --ipc --pid --net --fork)
[ "$(id -u)" = 0 ] || probe=(unshare --user --map-root-user --mount --uts --ipc --pid --net --fork)
if ! reason=$("${probe[@]}" true 2>&1); then
  echo "image test: SKIPPED: this machine cannot create the namespaces a container needs (${probe[*]} true: $reason)"
  echo "image test: 0 passed, 0 failed, 1 skipped"
  exit 0
fi

# Storage and engine settings of this test only: vfs storage (works in any file system), runc (crun fails on some
# cgroup setups), ulimits a sandboxed machine grants.
root=$PWD/$work/containers
mkdir -p "$root"
cat >"$root/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$root/storage"
runroot = "$root/run"
EOF
cat >"$root/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_STORAGE_CONF=$root/storage.conf CONTAINERS_CONF=$root/containers.conf

containers=()
pids=()
cleanup() {
  for name in "${containers[@]}"; do podman rm -f "$name" >/dev/null 2>&1 || true; done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  podman rmi -f localhost/gateway-image-test:first localhost/gateway-image-test:second localhost/gateway-image-test:lua >/dev/null 2>&1 || true
}
trap cleanup EXIT

# 2. Build twice; the second build publishes again (incrementally) and restages every file with new mtimes.
scripts/image.sh examples/hotels/krakend.json localhost/gateway-image-test:first
scripts/image.sh examples/hotels/krakend.json localhost/gateway-image-test:second >"$work/second-build.log"
first=$(podman image inspect --format '{{.Id}} {{.Digest}}' localhost/gateway-image-test:first)
second=$(podman image inspect --format '{{.Id}} {{.Digest}}' localhost/gateway-image-test:second)
[ "$first" = "$second" ] || fail "two builds of the same inputs differ: $first / $second"
pass "reproducible: two builds give id and digest $first"
image=localhost/gateway-image-test:first

size=$(podman image inspect --format '{{.Size}}' "$image")
echo "image size: $size bytes uncompressed ($(awk -v s="$size" 'BEGIN { printf "%.2f MB, %.2f MiB", s / 1e6, s / 1048576 }'); bound 20 MB, goal 15 MB)"
[ "$size" -le 20000000 ] || fail "the image is $size bytes, over 20 MB"
pass "size $size bytes <= 20 MB"

# 3. What is in it: exactly these files, root-owned, timestamp 0; and how it runs.
rm -f "$work/image.tar"
podman save --quiet --format docker-archive -o "$work/image.tar" "$image" || fail "podman save"
python3 - "$work/image.tar" <<'EOF' || fail "image content"
import io, json, sys, tarfile
outer = tarfile.open(sys.argv[1])
manifest = json.load(outer.extractfile("manifest.json"))[0]
assert len(manifest["Layers"]) == 1, f"expected one layer, got {manifest['Layers']}"
layer = tarfile.open(fileobj=io.BytesIO(outer.extractfile(manifest["Layers"][0]).read()))
files = {"/" + m.name.lstrip("./"): m for m in layer.getmembers() if m.isfile()}
expected = {"/gateway", "/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libm.so.6",
            "/etc/ssl/certs/ca-certificates.crt", "/etc/passwd", "/etc/group"}
assert set(files) == expected, f"files: {sorted(files)}"
for m in layer.getmembers():
    assert m.uid == 0 and m.gid == 0, f"{m.name} owned by {m.uid}:{m.gid}"
    assert m.mtime == 0, f"{m.name} has mtime {m.mtime}"
    assert not m.issym() or m.name.endswith(".so"), f"unexpected link {m.name}"
assert files["/gateway"].mode & 0o777 == 0o755, oct(files["/gateway"].mode)
passwd = layer.extractfile(files["/etc/passwd"]).read().decode()
assert "gateway:x:65532:65532:" in passwd, passwd
EOF
pass "content: the binary, loader, libc, libm, CA bundle, passwd and group; nothing else"
config=$(podman image inspect --format '{{.Config.User}}|{{json .HealthCheck.Test}}|{{.Config.Entrypoint}}|{{.Config.StopSignal}}' "$image")
[ "$config" = '65532:65532|["CMD","/gateway","healthcheck","--timeout","2s"]|[/gateway]|SIGTERM' ] || fail "image configuration: $config"
pass "runs as 65532:65532, HEALTHCHECK /gateway healthcheck, stops on SIGTERM"

# 4. The example backend on loopback, plain and over TLS.
dotnet build examples/backend -c Release -o out/aot-backend --nologo -v quiet >"$work/backend-build.log" 2>&1 || { cat "$work/backend-build.log"; fail "example backend build"; }
backend_port=$(python3 scripts/free-port.py)
out/aot-backend/ExampleBackend --urls "http://127.0.0.1:$backend_port" >"$work/backend.log" 2>&1 &
pids+=($!)
tls=$work/tls
mkdir -p "$tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$tls/key.pem" -out "$tls/cert.pem" >"$tls/openssl.log" 2>&1 || { cat "$tls/openssl.log"; fail "test certificate"; }
chmod 0644 "$tls/cert.pem"
tls_port=$(python3 scripts/free-port.py)
python3 scripts/tls-backend.py "$tls_port" "$tls/cert.pem" "$tls/key.pem" >"$work/tls-backend.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$backend_port/hotels/25" && break; sleep 0.1; done
for _ in $(seq 1 100); do curl -fsk -o /dev/null "https://127.0.0.1:$tls_port/hotels/25" && break; sleep 0.1; done

# The host the configuration names, which run_gateway points at the test's backend.
configured_host=http://127.0.0.1:8000

# Runs the image as deploy/kubernetes does; prints the port it listens on. Extra podman arguments come first. Runs in a
# command substitution: the caller records the container's name for the cleanup.
run_gateway() {
  local name=$1 backend=$2 port
  shift 2
  port=$(python3 scripts/free-port.py)
  podman run -d --name "$name" --network host --read-only --cap-drop ALL --security-opt no-new-privileges \
    --health-interval disable "$@" \
    -e GATEWAY_PORT="$port" -e GATEWAY_LISTEN_IP=127.0.0.1 -e GATEWAY_BACKEND_HOSTS="$configured_host=$backend" \
    "$image" >>"$work/podman.log" 2>&1 || fail "podman run $name (see $work/podman.log)"
  for _ in $(seq 1 200); do curl -fs -o /dev/null --max-time 1 "http://127.0.0.1:$port/__health" && break; sleep 0.05; done
  echo "$port"
}

expected='{"id":25,"name":"Hotel Miramar","stars":4,"destination_id":"barcelona","address":{"street": "Passeig de Colom 12", "city": "Barcelona"},"price_from":129.50,"destination":{"id": "barcelona", "name": "Barcelona", "country": "ES", "timezone": "Europe/Madrid", "highlights": ["Sagrada Família", "Park Güell", "La Barceloneta"]}}'

# 5. The gateway in its image. The backend is named "localhost": resolving it exercises the C library's name lookup
#    inside the scratch image (/etc/hosts from the engine).
name=gateway-image-test-$$
containers+=("$name")
port=$(run_gateway "$name" "http://localhost:$backend_port" -e GATEWAY_METRICS=true)
[ "$(curl -s --max-time 5 "http://127.0.0.1:$port/__health")" = '{"status":"ok"}' ] || fail "/__health"
[ "$(curl -s --max-time 5 -w ' %{http_code}' "http://127.0.0.1:$port/__ready")" = '{"status":"ready"} 200' ] || fail "/__ready"
headers=$work/headers.txt
body=$(curl -s --max-time 10 -D "$headers" "http://127.0.0.1:$port/hotel-destinations/25")
grep -qi '^HTTP/1.1 200' "$headers" || fail "chained endpoint: $(head -1 "$headers")"
grep -qi '^X-KrakenD-Completed: true' "$headers" || fail "chained endpoint: not completed"
[ "$body" = "$expected" ] || fail "chained endpoint body: $body"
pass "serves /__health, /__ready and the chained /hotel-destinations/25 (backend by name)"
count=$(curl -s --max-time 5 "http://127.0.0.1:$port/__stats/metrics" | awk '/^gateway_server_request_duration_seconds_count\{.*http_route="\/hotel-destinations\/\{id\}"/ { s += $NF } END { print s + 0 }')
[ "$count" = 1 ] || fail "Prometheus metrics of the image (GATEWAY_METRICS=true): $count requests to /hotel-destinations/{id}, expected 1"
pass "serves Prometheus metrics at /__stats/metrics (GATEWAY_METRICS=true, no OpenTelemetry SDK in the image)"

version=$(podman exec "$name" /gateway version 2>>"$work/podman.log") || fail "gateway version in the image"
grep -q '^endpoints: 3$' <<<"$version" || fail "gateway version: $version"
grep -Eq '^configuration: sha256:[0-9a-f]{64}$' <<<"$version" || fail "gateway version: $version"
if commit=$(git rev-parse HEAD 2>/dev/null); then grep -q "^commit: $commit$" <<<"$version" || fail "gateway version commit, expected $commit: $version"; fi
pass "gateway version: $(tr '\n' ' ' <<<"$version")"

process=$(podman inspect --format '{{.State.Pid}}' "$name")
[ "$(stat -c %u "/proc/$process")" = 65532 ] || fail "the gateway process runs as uid $(stat -c %u "/proc/$process")"
grep -q '^CapEff:.0000000000000000$' "/proc/$process/status" || fail "the gateway process has capabilities: $(grep CapEff "/proc/$process/status")"
pass "the process runs as uid 65532 without capabilities"

podman healthcheck run "$name" >>"$work/podman.log" 2>&1 || fail "the image's HEALTHCHECK failed on a serving gateway"
closed=$(python3 scripts/free-port.py)
if podman exec "$name" /gateway healthcheck --url "http://127.0.0.1:$closed/__health" >>"$work/podman.log" 2>&1; then
  fail "gateway healthcheck succeeded against a closed port"
fi
pass "HEALTHCHECK: healthy when serving, exit 1 against a closed port"

started=$(date +%s%N)
podman kill --signal TERM "$name" >/dev/null
code=$(timeout 25 podman wait "$name" 2>>"$work/podman.log") || fail "the gateway did not stop within 25 s of SIGTERM"
stopped_ms=$(( ($(date +%s%N) - started) / 1000000 ))
[ "$code" = 0 ] || fail "exit code $code after SIGTERM"
podman logs "$name" 2>&1 | grep -q '/__ready answers 503' || fail "the graceful stop was not logged"
pass "SIGTERM: exit code 0 after ${stopped_ms} ms"

# 6. TLS from the scratch image (OpenSSL is linked into the binary): trusted with the test CA, refused without it.
name=gateway-image-test-tls-$$
containers+=("$name")
port=$(run_gateway "$name" "https://localhost:$tls_port" -v "$PWD/$tls/cert.pem:/tls/ca.pem:ro" -e SSL_CERT_FILE=/tls/ca.pem)
body=$(curl -s --max-time 10 "http://127.0.0.1:$port/hotel-destinations/25")
[ "$body" = "$expected" ] || fail "through the https backend: $body"
name=gateway-image-test-untrusted-$$
containers+=("$name")
port=$(run_gateway "$name" "https://localhost:$tls_port")
status=$(curl -s -o /dev/null --max-time 10 -w '%{http_code}' "http://127.0.0.1:$port/hotel-destinations/25")
[ "$status" = 500 ] || fail "an https backend with an unknown CA answered $status, expected 500"
if podman logs "$name" 2>&1 | grep -q "Unhandled exception"; then fail "the untrusted TLS call crashed the gateway"; fi
pass "TLS: an https backend is reached with its CA, refused (500) without it"

# 7. A configuration with Lua: the image carries liblua54.so and the libraries it needs (libdl), and the gateway,
#    which compiles every script with the real Lua at start-up, starts and runs a script in the scratch image.
lua_image=localhost/gateway-image-test:lua
scripts/image.sh perf/load/lua.json "$lua_image" >"$work/image-lua.log" 2>&1 || { tail -20 "$work/image-lua.log"; fail "scripts/image.sh for a Lua configuration"; }
rm -f "$work/lua.tar"
podman save --quiet --format docker-archive -o "$work/lua.tar" "$lua_image" || fail "podman save (Lua image)"
python3 - "$work/lua.tar" <<'EOF2' || fail "Lua image content"
import io, json, sys, tarfile
outer = tarfile.open(sys.argv[1])
manifest = json.load(outer.extractfile("manifest.json"))[0]
layer = tarfile.open(fileobj=io.BytesIO(outer.extractfile(manifest["Layers"][0]).read()))
files = {"/" + m.name.lstrip("./") for m in layer.getmembers() if m.isfile()}
assert "/liblua54.so" in files, sorted(files)
assert "/lib/x86_64-linux-gnu/libdl.so.2" in files, sorted(files)
EOF2
name=gateway-image-test-lua-$$
containers+=("$name")
image=$lua_image
configured_host=http://backend.perf:8000
port=$(run_gateway "$name" "http://localhost:$backend_port")
[ "$(curl -s --max-time 5 "http://127.0.0.1:$port/__health")" = '{"status":"ok"}' ] || fail "the Lua image did not start: $(podman logs "$name" 2>&1 | tail -3)"
curl -s -o /dev/null --max-time 10 "http://127.0.0.1:$port/propagate/lua/25"
if podman logs "$name" 2>&1 | grep -qi "lua_failed\|DllNotFound\|Unhandled exception"; then fail "the Lua script failed in the image: $(podman logs "$name" 2>&1 | tail -3)"; fi
pass "a Lua configuration's image carries liblua54.so and libdl, starts and runs its script"

echo "image test: $checks passed, 0 failed"
