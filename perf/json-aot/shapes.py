#!/usr/bin/env python3
"""Writes the JSON shapes perf/json-aot/run.sh times besides perf/load/data: a 32 KB text-heavy list (long strings with
escapes and non-ASCII text, booleans, nulls, nested objects) spaced as Python writes it, the same compact, and the
same pretty-printed. Seeded: the same bytes every time."""
import json
import random
import sys
from pathlib import Path

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
random.seed(1)
words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua".split()
items = [{
    "id": i,
    "title": " ".join(random.choice(words) for _ in range(8)),
    "description": " ".join(random.choice(words) for _ in range(40)) + ' "quoted"\nnew line café 🏨',
    "active": random.random() < 0.5,
    "parent": None,
    "score": random.random() * 100,
    "tags": ["a", "bb", "ccc"][:random.randint(0, 3)],
    "meta": {"created": "2026-12-03T08:00:00Z", "nested": {"k": [1, 2, {"x": None}]}},
} for i in range(60)]
doc = {"items": items}
(out / "text.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
(out / "compact.json").write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
(out / "pretty.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
