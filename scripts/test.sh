#!/usr/bin/env bash
# Runs every test: unit, generator and end-to-end tests (dotnet test), then the Native-AOT smoke test.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p out

set +e
dotnet test Gateway.sln -c Release --nologo 2>&1 | tee out/dotnet-test.log
status=${PIPESTATUS[0]}
set -e
passed=$(grep -Eo 'Passed: +[0-9]+' out/dotnet-test.log | awk '{s += $2} END {print s + 0}')
failed=$(grep -Eo 'Failed: +[0-9]+' out/dotnet-test.log | awk '{s += $2} END {print s + 0}')
if [ "$status" -ne 0 ]; then
  echo "dotnet test: $passed passed, $failed failed"
  exit "$status"
fi

scripts/aot-smoke.sh
echo "tests: $((passed + 1)) passed, $failed failed"
