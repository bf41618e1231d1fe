#!/usr/bin/env python3
"""Rewrite the PINS table in tests/pins.rs from a fresh release build.

Run after a deliberate change to the explored state space, then review
the diff: every changed count must be explained in the commit message.
"""
import json
import pathlib
import re
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parent.parent
exe = root / "target" / "release" / "authrace"
models = sorted(p.relative_to(root).as_posix() for p in (root / "models").rglob("*.toml"))
rows = []
for m in models:
    out = subprocess.run([str(exe), "check", m, "--format", "json"], cwd=root,
                         capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(f"{m}: exit {out.returncode}\n{out.stderr}")
    report = json.loads(out.stdout)
    if not report["complete"]:
        sys.exit(f"{m}: incomplete")
    rows.append((m, report["stats"]["unique_states"]))

pins = root / "tests" / "pins.rs"
text = pins.read_text()
body = "".join(f'    ("{m}", {n}),\n' for m, n in rows)
new = re.sub(r"(const PINS: &\[\(&str, usize\)\] = &\[\n)(.*?)(\];)", lambda mo: mo.group(1) + body + mo.group(3),
             text, count=1, flags=re.S)
pins.write_text(new)
print(f"pinned {len(rows)} scenarios")
