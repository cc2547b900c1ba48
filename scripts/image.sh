#!/usr/bin/env bash
# Builds the gateway's container image for one configuration:
#   scripts/image.sh path/to/krakend.json gateway:1.0
# 1. publishes the native binary with the configuration compiled in (the README's publish command, with OpenSSL
#    linked statically so that the image needs no OpenSSL library for https backends, and without the method-name
#    tables of stack traces: -0.9 MB; an exception's frames print as offsets, resolved with the gateway.dbg that the
#    publish leaves in out/image/publish, see docs/operations.md);
# 2. stages deploy/container/Containerfile's build context: the binary, the shared libraries `ldd` lists for it (and
#    liblua54.so beside the binary when the configuration has Lua scripts), a CA bundle, /etc/passwd and /etc/group
#    (out/image/context);
# 3. builds it FROM scratch with buildah, reproducibly: every timestamp is 0 and every file mode is set here, so the
#    same binary and host files give the same image digest.
# Prints the image's id, digest and uncompressed size. Needs buildah (Debian: apt-get install buildah), and for the
# static OpenSSL cmake and libssl-dev. Set STORAGE_DRIVER=vfs where overlay storage is unavailable.
set -euo pipefail

if [ $# -ne 2 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
  echo "usage: scripts/image.sh path/to/krakend.json IMAGE[:TAG]" >&2
  exit 2
fi
[ -f "$1" ] || { echo "image.sh: configuration '$1' not found" >&2; exit 2; }
config=$(realpath "$1")
tag=$2
cd "$(dirname "$0")/.."
root=$PWD
command -v buildah >/dev/null || { echo "image.sh: buildah is not installed (Debian: apt-get install buildah)" >&2; exit 1; }

out=out/image
mkdir -p "$out"

# 1. The binary. Its native compile gets its own intermediate folders: the OpenSSL linking mode changes what the
#    compiler emits, and a later ordinary publish must not link against these objects (nor these against its own).
echo "==> dotnet publish src/Gateway.Host -c Release -p:GatewayConfig=$config -p:StaticOpenSslLinking=true -p:StackTraceSupport=false"
if ! dotnet publish src/Gateway.Host -c Release --nologo -p:GatewayConfig="$config" -p:StaticOpenSslLinking=true -p:StackTraceSupport=false \
    -p:NativeIntermediateOutputPath="$root/$out/native-obj/" -p:NativeOutputPath="$root/$out/native-bin/" \
    -o "$out/publish" >"$out/publish.log" 2>&1; then
  tail -40 "$out/publish.log" >&2
  echo "image.sh: publish failed (full log: $out/publish.log)" >&2
  exit 1
fi
if grep -E "warning (IL[0-9]+|GW[0-9]+)" "$out/publish.log" >&2; then
  echo "image.sh: the native publish reported trim/AOT or configuration warnings" >&2
  exit 1
fi
binary=$out/publish/gateway

# 2. The build context. Each library goes where the loader looks for it (the path ldd shows), as a regular file.
context=$out/context
rm -rf "$context"
mkdir -p "$context/rootfs/etc/ssl/certs"
install -m 0755 "$binary" "$context/rootfs/gateway"
# Copies the shared libraries FILE needs (what ldd lists) into the image, each where the loader looks for it.
stage_libraries() {
  if ldd "$1" | grep -q "not found"; then
    ldd "$1" >&2
    echo "image.sh: a library $(basename "$1") needs is missing on this machine" >&2
    exit 1
  fi
  for library in $(ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u); do
    [ -e "$context/rootfs$library" ] || install -D -m 0755 "$(readlink -f "$library")" "$context/rootfs$library"
  done
}
stage_libraries "$binary"
# Lua: a configuration with Lua scripts binds Lua's library, which the binary opens from its own folder at start-up
# (dlopen, so ldd does not list it). A binary without Lua has no import of it: its image has no such file.
# Lua's library needs libraries of its own (libdl.so.2 for the one KeraLua ships), which the binary itself does not.
if grep -qa 'liblua54\|lua54' "$binary"; then
  [ -f "$out/publish/liblua54.so" ] || { echo "image.sh: the binary uses Lua but the publish has no liblua54.so" >&2; exit 1; }
  install -m 0755 "$out/publish/liblua54.so" "$context/rootfs/liblua54.so"
  stage_libraries "$out/publish/liblua54.so"
fi
bundle=/etc/ssl/certs/ca-certificates.crt
[ -f "$bundle" ] || { echo "image.sh: no CA bundle at $bundle (Debian: apt-get install ca-certificates)" >&2; exit 1; }
install -m 0644 "$bundle" "$context/rootfs/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/:/sbin/nologin\ngateway:x:65532:65532:gateway:/:/sbin/nologin\n' >"$context/rootfs/etc/passwd"
printf 'root:x:0:\ngateway:x:65532:\n' >"$context/rootfs/etc/group"
chmod 0644 "$context/rootfs/etc/passwd" "$context/rootfs/etc/group"
find "$context/rootfs" -type d -exec chmod 0755 {} +
echo "==> staged $(find "$context/rootfs" -type f | wc -l) files: $(cd "$context/rootfs" && find . -type f | sed 's|^\.||' | sort | tr '\n' ' ')"

# 3. The image. The configuration's port is documentation (EXPOSE); GATEWAY_PORT or --port still choose at run time.
port=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1], encoding="utf-8")).get("port", 8080))' "$config")
built=$(buildah bud --quiet --format docker --timestamp 0 --isolation chroot --build-arg PORT="$port" \
  -f deploy/container/Containerfile "$context")

# Buildah before 1.29 (Debian 12 has 1.28) records the build container's random id and hostname in the docker format
# (the one with HEALTHCHECK), even with --timestamp: export the image uncompressed, blank them, and store it again.
normalized=$out/normalized
rm -rf "$normalized"
buildah push --quiet --disable-compression "$built" "dir:$normalized" >/dev/null
buildah rmi "$built" >/dev/null
python3 scripts/image-normalize.py "$normalized"
stored=$(buildah pull --quiet "dir:$normalized")
buildah tag "$stored" "$tag"
id=$(buildah inspect --type image --format '{{.FromImageID}}' "$tag")
digest=$(buildah inspect --type image --format '{{.FromImageDigest}}' "$tag")
size=$(du -sb --apparent-size "$context/rootfs" | cut -f1)
echo "image $tag: id $id, digest $digest"
echo "image $tag: $size bytes uncompressed ($(awk -v s="$size" 'BEGIN { printf "%.2f MiB", s / 1048576 }'))"
