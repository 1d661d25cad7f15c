"""The batch report a curator checks by eye: ``batch-report.json`` and ``batch-report.html``.

The HTML page lists every file with its status, before/after thumbnails (small JPEGs the
workers wrote under ``batch-report/thumbs/``), the steps it ran with their resolved
parameters, and links to the output and its record. Files for review link their proposed
mask. The JSON holds the same facts for scripts.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photofix import __version__

if TYPE_CHECKING:
    from photofix.batch.engine import BatchJob
    from photofix.batch.worker import Outcome

REPORT_JSON = "batch-report.json"
REPORT_HTML = "batch-report.html"


def write_report(
    output_dir: Path,
    outcomes: Sequence[Outcome],
    *,
    job: BatchJob,
    recipe_sha: str,
    seconds: float,
) -> tuple[Path, Path]:
    """Write both report files atomically; returns their paths."""
    counts = {s: sum(o.status == s for o in outcomes) for s in _STATUSES}
    data: dict[str, Any] = {
        "format": "photofix-batch-report",
        "version": 1,
        "app_version": __version__,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "recipe": {"path": str(job.recipe), "sha256": recipe_sha},
        "inputs": [str(i) for i in job.inputs],
        "output_dir": str(job.output_dir),
        "engine": job.engine,
        "seconds": round(seconds, 3),
        "counts": counts,
        "files": [o.to_dict(output_dir) for o in outcomes],
    }
    json_path = output_dir / REPORT_JSON
    html_path = output_dir / REPORT_HTML
    _atomic_text(json_path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    _atomic_text(html_path, _html(data))
    return json_path, html_path


_STATUSES = ("done", "skipped", "review", "failed")


def _atomic_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _html(data: dict[str, Any]) -> str:
    e = html.escape
    counts = data["counts"]
    rows = []
    for f in data["files"]:
        thumbs = "".join(
            f'<figure><img src="{e(f[key])}" alt="{label}" loading="lazy">'
            f"<figcaption>{label}</figcaption></figure>"
            for key, label in (("thumb_before", "before"), ("thumb_after", "after"))
            if f.get(key)
        )
        if f.get("proposal"):
            thumbs += (
                f'<figure><img src="{e(f["thumb_proposal"])}" alt="proposed mask" '
                f'loading="lazy"><figcaption>proposed mask</figcaption></figure>'
                if f.get("thumb_proposal")
                else ""
            )
        steps = "".join(f"<li><code>{e(s)}</code></li>" for s in f.get("steps", []))
        links = []
        for key, label in (("output", "output"), ("record", "record"), ("proposal", "mask")):
            if f.get(key):
                links.append(f'<a href="{e(f[key])}">{label}</a>')
        reason = f'<p class="reason">{e(f["reason"])}</p>' if f.get("reason") else ""
        notes = "".join(f'<p class="note">{e(n)}</p>' for n in f.get("notes", []))
        rows.append(
            f'<tr class="{e(f["status"])}"><td><b>{e(f["file"])}</b><br>'
            f'<span class="status">{e(f["status"])}</span> · {f.get("seconds", 0):.1f} s'
            f"{reason}{notes}<br>{' · '.join(links)}</td>"
            f'<td class="thumbs">{thumbs}</td><td><ol>{steps}</ol></td></tr>'
        )
    summary = ", ".join(f"{counts[s]} {s}" for s in _STATUSES)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PhotoFix batch report</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
td {{ border-top: 1px solid #ccc; padding: .5em; vertical-align: top; }}
.thumbs figure {{ display: inline-block; margin: 0 .5em 0 0; text-align: center; }}
.thumbs img {{ max-width: 256px; max-height: 256px; border: 1px solid #999; }}
tr.failed .status {{ color: #b00; font-weight: bold; }}
tr.review .status {{ color: #a60; font-weight: bold; }}
tr.done .status, tr.skipped .status {{ color: #070; }}
.reason {{ color: #b00; margin: .3em 0; }} .note {{ color: #555; margin: .2em 0; }}
code {{ font-size: 12px; }}
</style></head><body>
<h1>PhotoFix batch report</h1>
<p>{e(summary)} in {data["seconds"]:.0f} s · recipe <code>{e(data["recipe"]["path"])}</code>
(SHA-256 {e(data["recipe"]["sha256"][:12])}…) · PhotoFix {e(data["app_version"])} ·
finished {e(data["finished"])}</p>
<table><tr><th>file</th><th>before / after</th><th>steps</th></tr>
{"".join(rows)}
</table></body></html>
"""
