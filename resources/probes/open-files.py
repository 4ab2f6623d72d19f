#!/usr/bin/env python3
# diagkit-probe: name=open-files title="Open file handles" timeout=10 description="System-wide file handles against fs.file-max, printed as JSON (needs python3 on the target)."
"""An example of a JSON-printing user probe (format: see diagkit.probes.user)."""
import json

WARN_RATIO = 0.8

out = {"metrics": [], "findings": [], "facts": {}, "notes": []}
try:
    with open("/proc/sys/fs/file-nr") as fh:
        used, _free, limit = (int(x) for x in fh.read().split())
except (OSError, ValueError) as exc:
    out["notes"].append(f"/proc/sys/fs/file-nr unreadable: {exc}")
else:
    out["metrics"].append({"name": "file_handles_used", "value": used, "unit": "count"})
    out["metrics"].append({"name": "file_handles_max", "value": limit, "unit": "count"})
    out["facts"]["file_max"] = limit
    if limit and used > WARN_RATIO * limit:
        out["findings"].append({
            "severity": "warning",
            "title": "File handles nearly exhausted",
            "detail": f"{used} of {limit} handles in use.",
            "hint": "Find the process holding them (ls /proc/*/fd | wc -l per pid) or raise fs.file-max.",
        })
print(json.dumps(out))
