#!/usr/bin/env python3
"""Blanks the build-specific fields of a docker-format image configuration, for scripts/image.sh.

Usage: image-normalize.py FOLDER   (an image in buildah's `dir:` layout: manifest.json, the config and layer blobs)

The docker format records the id and hostname of the container that built the image. Buildah 1.29 and later blank
them when --timestamp is given; older versions (Debian 12 ships 1.28) write random values, so that two builds of the
same inputs would differ. This rewrites the configuration without them and points the manifest at the new blob;
an already blank configuration is rewritten to the same bytes.
"""
import hashlib
import json
import os
import sys

folder = sys.argv[1]
manifest_path = os.path.join(folder, "manifest.json")
with open(manifest_path, encoding="utf-8") as f:
    manifest = json.load(f)
old = manifest["config"]["digest"].split(":", 1)[1]
with open(os.path.join(folder, old), encoding="utf-8") as f:
    config = json.load(f)

config.pop("container", None)
for section in ("config", "container_config"):
    if isinstance(config.get(section), dict):
        config[section]["Hostname"] = ""

blob = json.dumps(config, separators=(",", ":"), sort_keys=True).encode()
new = hashlib.sha256(blob).hexdigest()
os.remove(os.path.join(folder, old))
with open(os.path.join(folder, new), "wb") as f:
    f.write(blob)
manifest["config"].update(digest="sha256:" + new, size=len(blob))
with open(manifest_path, "w", encoding="utf-8") as f:
    json.dump(manifest, f, separators=(",", ":"))
