#!/usr/bin/env bash
# Usage: perf/json-aot/run.sh [BASE_COMMIT] [FILE...]
# Publishes the JSON body check (src/Gateway.Runtime/Json/JsonObjectBody.cs) with Native AOT, as the gateway ships, and
# times it on each FILE (default: the harness's products-20k.json, products-2k.json and hotel, and the shapes shapes.py
# writes: text-heavy, compact, pretty-printed); with BASE_COMMIT, the file as it was at that commit
# is compiled in beside it and both alternate in one process. Pinned to CPU 1 when there is one.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
base_dir="$here/obj/Base"
rm -rf "$base_dir"
if [[ $# -gt 0 && ! -f "$1" ]]; then
  mkdir -p "$base_dir"
  git -C "$root" show "$1:src/Gateway.Runtime/Json/JsonObjectBody.cs" \
    | sed 's/^namespace Gateway.Runtime.Json;/namespace BaseJson;/' > "$base_dir/JsonObjectBody.cs"
  shift
fi
files=("$@")
if [[ ${#files[@]} -eq 0 ]]; then
  python3 "$here/shapes.py" "$here/obj/shapes"
  data="$root/perf/load/data"
  files=("$data/products-20k.json" "$data/products-2k.json" "$data/hotels/25.json" "$here/obj/shapes/text.json" "$here/obj/shapes/compact.json" "$here/obj/shapes/pretty.json")
fi
dotnet publish "$here/json-aot.csproj" -c Release -o "$here/bin/publish" --nologo -v quiet
cpu=()
[[ $(nproc) -gt 1 ]] && command -v taskset >/dev/null && cpu=(taskset -c 1)
"${cpu[@]}" "$here/bin/publish/json-aot" "${files[@]}"
