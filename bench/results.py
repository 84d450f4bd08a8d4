"""bench/results.py - write one section of bench/RESULTS.md.

run.py rewrites the part above NOTES_MARK; the other benchmarks each own a
"## Title" section below it, which they replace in place of an earlier one.
"""

import os
import re

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
NOTES_MARK = "<!-- Notes below this line are kept by bench/run.py -->"


def write_section(title, section):
    """Replace (or append) the section headed "## title"; returns the path."""
    path = os.path.join(BENCH_DIR, "RESULTS.md")
    try:
        with open(path) as f:
            old = f.read()
    except FileNotFoundError:
        old = "# Benchmark results\n\n" + NOTES_MARK + "\n"
    if NOTES_MARK not in old:
        old = old.rstrip("\n") + "\n\n" + NOTES_MARK + "\n"
    head, _, notes = old.partition(NOTES_MARK)
    notes = re.sub(r"\n## %s\n.*?(?=\n## |\Z)" % re.escape(title), "\n", "\n" + notes,
                   flags=re.S).strip("\n")
    with open(path, "w") as f:
        f.write(head + NOTES_MARK + "\n\n" + ((notes + "\n\n") if notes else "") + section)
    return path
