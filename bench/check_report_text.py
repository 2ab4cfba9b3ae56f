"""Check: the visible text of rendered reports is the same as at an older git revision.

Renders the authority reports of ``--authorities`` (default BVA, FFA, DAkkS, JKI) and the cohort
report, in German and English, with this tree's toolkit and with the toolkit of ``--rev``
(exported with ``git archive`` into a temporary folder), each in its own process
(:func:`toolkit.reports.inprocess.render_in_process` on the demo cohort), and compares what a
reader sees: the text of the HTML without tags, styles and figure data, and the number of
figures; and says whether the whole markup apart from the figures' data is identical. Prints one line per report and a unified diff of any difference; exit code 1 if any
report differs.

Usage: ``.venv/bin/python bench/check_report_text.py [--rev 85630bc] [--authorities BVA FFA ...] [--db FILE]``.
"""

from __future__ import annotations

import argparse
import difflib
import html
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_RENDER = r"""
import json, sys
import matplotlib; matplotlib.use("Agg")
from toolkit.reports.inprocess import render_in_process
db, jobs = sys.argv[1], json.loads(sys.argv[2])
print(json.dumps({f"{a}:{lang}": render_in_process(db, a, lang=lang) for a, lang in jobs}))
"""


def visible_text(page: str) -> tuple[str, int]:
    """The text a reader sees (one line per block) and the number of figures of an HTML page."""
    figures = len(re.findall(r"<img\b", page))
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    page = re.sub(r"(?i)<br\s*/?>|</(p|div|h[1-6]|li|tr|table|section|figcaption|caption)>", "\n", page)
    page = re.sub(r"(?i)</t[dh]>", " | ", page)
    page = re.sub(r"<[^>]+>", " ", page)
    lines = [" ".join(html.unescape(line).split()) for line in page.splitlines()]
    return "\n".join(line for line in lines if line), figures


def _without_figures(page: str) -> str:
    return re.sub(r'src="data:image/[a-z+]+;base64,[^"]+"', 'src=""', page)


def render(root: Path, db: Path, jobs: list[tuple[str | None, str]]) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(root), "MPLBACKEND": "Agg"}
    env.pop("UPO_REPORT_CACHE", None)
    out = subprocess.run([sys.executable, "-c", _RENDER, str(db), json.dumps(jobs)], capture_output=True, text=True, env=env, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", default="85630bc", help="the git revision to compare with")
    ap.add_argument("--authorities", nargs="+", default=["BVA", "FFA", "DAkkS", "JKI"])
    ap.add_argument("--db", default=None, help="a demo cohort database (default: build one)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="report-text-") as tmp:
        work = Path(tmp)
        db = Path(a.db) if a.db else work / "demo.sqlite"
        if not a.db:
            sys.path.insert(0, str(ROOT))
            from toolkit.demo import build_demo

            build_demo(db).close()
        old = work / "old"
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", a.rev, "toolkit", "notebooks", "surveys"], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        jobs = [(code, lang) for code in [*a.authorities, None] for lang in ("de", "en")]
        before, after = render(old, db, jobs), render(ROOT, db, jobs)
        differ = 0
        for key in before:
            (t0, f0), (t1, f1) = visible_text(before[key]), visible_text(after[key])
            name = key.replace("None", "cohort")
            same = t0 == t1 and f0 == f1
            differ += not same
            markup = _without_figures(before[key]) == _without_figures(after[key])
            print(f"{name:<12} {'same' if same else 'DIFFERS'}: {len(t1.splitlines())} lines of text, {f1} figures (at {a.rev}: {f0}); "
                  f"markup apart from the figures' data {'identical' if markup else 'differs'}")
            if t0 != t1:
                sys.stdout.writelines(difflib.unified_diff(t0.splitlines(True), t1.splitlines(True), f"{name}@{a.rev}", f"{name}@tree", n=1))
        return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
