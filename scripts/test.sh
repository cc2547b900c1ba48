#!/usr/bin/env bash
# Runs every test: unit, generator and end-to-end tests (dotnet test; the end-to-end suite three times: over each backend
# HTTP client, and over .NET's sockets instead of the event-loop transport), the Native-AOT smoke test, then, with the
# smoke test's binary, the fault matrix's native subset, a 2-minute soak, the graceful-stop test and the Kubernetes
# manifests' test, and last the container image test.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p out

# The browser CORS test drives Debian's Chromium; install it when this machine can (root with apt-get).
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "==> installing chromium for the browser CORS test"
  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "could not install chromium: the browser test will be skipped, saying why"
fi

# The shared rate limit tests (and the native smoke test) start Debian's redis-server on loopback.
if ! command -v redis-server >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "==> installing redis-server for the shared rate limit tests"
  (apt-get update -qq && apt-get install -y -qq redis-server >/dev/null) || echo "could not install redis-server: the shared rate limit tests will be skipped, saying why"
fi

# The soak drives its load with Debian's wrk.
if ! command -v wrk >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "==> installing wrk for the soak"
  (apt-get update -qq && apt-get install -y -qq wrk >/dev/null) || echo "could not install wrk: the soak will fail, saying why"
fi

set +e
dotnet test Gateway.sln -c Release --nologo 2>&1 | tee out/dotnet-test.log
status=${PIPESTATUS[0]}
# The differential run: the whole end-to-end suite once more with every plain-HTTP backend called over .NET's
# SocketsHttpHandler instead of the gateway's own HTTP/1.1 client (docs/operations.md, backend HTTP client): both
# clients must give every test the same answers.
if [ "$status" -eq 0 ]; then
  echo "==> end-to-end suite over .NET's HTTP client (GATEWAY_TEST_BACKEND_HTTP=sockets)"
  GATEWAY_TEST_BACKEND_HTTP=sockets dotnet test tests/Gateway.EndToEnd.Tests -c Release --nologo --no-build 2>&1 | tee -a out/dotnet-test.log
  status=${PIPESTATUS[0]}
fi
# And once with .NET's sockets under Kestrel and under the gateway's own client instead of its event loops
# (docs/operations.md, "Transport"): the fallback --transport sockets must answer alike.
if [ "$status" -eq 0 ]; then
  echo "==> end-to-end suite over .NET's sockets (GATEWAY_TEST_TRANSPORT=sockets)"
  GATEWAY_TEST_TRANSPORT=sockets dotnet test tests/Gateway.EndToEnd.Tests -c Release --nologo --no-build 2>&1 | tee -a out/dotnet-test.log
  status=${PIPESTATUS[0]}
fi
set -e
passed=$(grep -Eo 'Passed: +[0-9]+' out/dotnet-test.log | awk '{s += $2} END {print s + 0}')
failed=$(grep -Eo 'Failed: +[0-9]+' out/dotnet-test.log | awk '{s += $2} END {print s + 0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' out/dotnet-test.log | awk '{s += $2} END {print s + 0}')
if [ "$skipped" -gt 0 ]; then
  echo "dotnet test: $skipped skipped:"
  grep -E '^\s+Skipped ' out/dotnet-test.log || true
fi
if [ "$status" -ne 0 ]; then
  echo "dotnet test: $passed passed, $failed failed"
  exit "$status"
fi

scripts/aot-smoke.sh
python3 scripts/native-matrix.py out/aot-smoke/gateway | tee out/native-matrix.log
# The documented soak runs 30 minutes (docs/reliability.md, "Soak"); CI runs 2 after 20 s of warm-up.
python3 scripts/soak.py out/aot-smoke/gateway --minutes 2 --warmup 20 | tee out/soak.log
python3 scripts/lifecycle-test.py out/aot-smoke/gateway | tee out/lifecycle-test.log
python3 scripts/kubernetes-test.py out/aot-smoke/gateway | tee out/kubernetes-test.log
scripts/image-test.sh | tee out/image-test.log
# Each script ends with "NAME: N passed, M failed[, K skipped]".
count() {
  grep -Eh '^(native matrix|soak|lifecycle|kubernetes|image test): [0-9]+ passed' out/native-matrix.log out/soak.log out/lifecycle-test.log \
    out/kubernetes-test.log out/image-test.log |
    grep -Eo "[0-9]+ $1" | awk '{s += $1} END {print s + 0}'
}
echo "tests: $((passed + 1 + $(count passed))) passed, $failed failed, $((skipped + $(count skipped))) skipped"
