"""How much of a TF1 corpus's API does ``jitgraph`` have? Reads a usage TSV (or scans Python
sources), resolves every ``tf.*`` name against the live ``jitgraph`` namespace and prints the
coverage.

    python -m tools.api_coverage USAGE.tsv [--exclude contrib,estimator,keras] [--total-files N]
                                           [--missing 30]
    python -m tools.api_coverage --scan DIR      # per-file uses of tf.* names in DIR's *.py files
    python -m tools.api_coverage --tf-names NAMES.json   # TF's own namespace (a JSON object whose
                                                         # keys are dotted names): what is missing

Input. A tab-separated file whose header row names its columns; ``#`` lines are comments. Two
shapes are understood:

* name counts (``name  files  ...``): one row per ``tf.*`` name with the number of corpus files
  that use it (the shape of the corpus summary this project keeps). The total number of files is
  read from a comment such as ``# ... used by 281 graph-mode files ...`` or given with
  ``--total-files``.
* per-file uses (``file  name``): one row per (file, name) pair. ``--scan DIR`` makes these from
  Python files: every attribute chain ``tf.a.b`` rooted at a name bound by ``import tensorflow
  as tf`` (or ``tensorflow.compat.v1``, or ``jitgraph``) counts, cut where a call or subscript
  intervenes.

What is computed. A name is present when ``getattr`` resolves each dotted part from ``jitgraph``
(``tf.nn.rnn_cell.LSTMCell`` → ``jitgraph.nn.rnn_cell.LSTMCell``). Names under the excluded
namespaces (``tf.contrib``, ``tf.estimator``, ``tf.keras`` by default) are left out, as the
issue's target statistic does.

* ``names``: the share of distinct names present.
* ``uses``: the share of (file, name) uses whose name is present — names weighted by their file
  counts.
* ``files``: the share of corpus files that use only present names — the issue's statistic.
  Per-file uses give it exactly. Name counts do not say which names share a file, so the script
  prints the interval it must lie in: at least ``1 - sum(files of missing names) / N`` (every
  missing use in a different file) and at most ``1 - max(files of a missing name) / N`` (all
  missing uses in the files of the most used missing name). A file that uses only excluded
  names still counts in ``N`` and counts as covered.
"""

import argparse
import re
import sys
from collections import defaultdict

DEFAULT_EXCLUDE = ("contrib", "estimator", "keras")


def resolve(name, root):
    """True when the dotted ``tf.a.b`` name resolves from module ``root``."""
    obj = root
    for part in name.split(".")[1:]:
        try:
            obj = getattr(obj, part)
        except Exception:   # a lazy attribute may fail in its own way: the name is not there
            return False
    return True


def read_usage(path):
    """``(rows, total_files)``: rows are dicts keyed by the header's column names."""
    header, rows, total = None, [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if line.startswith("#"):
                m = re.search(r"(\d+)\s+(?:[\w-]+\s+)*files", line)
                total = int(m.group(1)) if m and total is None else total
                continue
            cells = line.split("\t")
            if header is None:
                header = cells
                continue
            rows.append(dict(zip(header, cells)))
    if header is None or "name" not in header:
        raise ValueError(f"{path}: expected a header row with a 'name' column")
    return rows, total


def scan(directory):
    """Per-file rows ``{"file", "name"}`` of the ``tf.*`` names used by the ``*.py`` files under
    ``directory``."""
    import ast
    import os
    rows = []
    for root, _, files in os.walk(directory):
        for fn in sorted(files):
            if not fn.endswith(".py"):
                continue
            path = os.path.join(root, fn)
            try:
                with open(path, encoding="utf-8") as f:
                    tree = ast.parse(f.read(), path)
            except (SyntaxError, UnicodeDecodeError, ValueError):
                continue
            roots = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                     for a in node.names if a.name in ("tensorflow", "tensorflow.compat.v1", "jitgraph")}
            names = set()
            for node in ast.walk(tree):
                parts = []
                while isinstance(node, ast.Attribute):
                    parts.append(node.attr)
                    node = node.value
                if parts and isinstance(node, ast.Name) and node.id in roots:
                    names.add(".".join(["tf"] + parts[::-1]))
            # keep only the longest chains: tf.nn.relu stands for its prefix tf.nn
            for n in names:
                if not any(m.startswith(n + ".") for m in names):
                    rows.append({"file": path, "name": n})
    return rows


def tf_names_report(path, root, show_missing=30):
    """What of TF's namespace (keys of the JSON object in ``path``) ``root`` lacks, per module."""
    import json
    with open(path, encoding="utf-8") as f:
        names = sorted(json.load(f))
    missing = [n for n in names if not resolve(n, root)]
    by_module = defaultdict(list)
    for n in missing:
        by_module[n.rsplit(".", 1)[0]].append(n.rsplit(".", 1)[1])
    lines = [f"TF names present: {len(names) - len(missing)}/{len(names)}"]
    for mod, ns in sorted(by_module.items(), key=lambda kv: -len(kv[1])):
        shown = " ".join(ns[:show_missing]) + (" ..." if len(ns) > show_missing else "")
        lines.append(f"  {mod}: {len(ns)} missing: {shown}")
    return "\n".join(lines)


def excluded(name, prefixes):
    parts = name.split(".")
    return len(parts) > 1 and parts[1] in prefixes


def coverage(rows, total_files, root, exclude=DEFAULT_EXCLUDE):
    """A dict of the statistics described in the module docstring (fractions in [0, 1])."""
    per_file = "file" in rows[0] if rows else False
    present, missing = {}, {}
    if per_file:
        files_of = defaultdict(set)
        all_files = set()
        for r in rows:
            all_files.add(r["file"])
            if not excluded(r["name"], exclude):
                files_of[r["name"]].add(r["file"])
        counts = {n: len(fs) for n, fs in files_of.items()}
        total_files = len(all_files)
    else:
        counts = {r["name"]: int(r["files"]) for r in rows if not excluded(r["name"], exclude)}
        if total_files is None:
            raise ValueError("the total number of files is unknown: pass --total-files")
    for n, c in counts.items():
        (present if resolve(n, root) else missing)[n] = c
    uses = sum(counts.values())
    out = {"names": len(present) / max(len(counts), 1),
           "uses": sum(present.values()) / max(uses, 1),
           "total_files": total_files, "present": present, "missing": missing}
    if per_file:
        bad = set().union(*(files_of[n] for n in missing)) if missing else set()
        out["files"] = out["files_low"] = out["files_high"] = 1 - len(bad) / total_files
    else:
        out["files_low"] = max(0.0, 1 - sum(missing.values()) / total_files)
        out["files_high"] = 1 - max(missing.values(), default=0) / total_files
        out["files"] = None
    return out


def report(stats, show_missing=30):
    lines = [f"names present: {len(stats['present'])}/{len(stats['present']) + len(stats['missing'])} "
             f"({stats['names']:.1%})",
             f"uses covered (names weighted by files): {stats['uses']:.1%}"]
    if stats["files"] is not None:
        lines.append(f"files using only present names: {stats['files']:.1%} of {stats['total_files']}")
    else:
        lines.append(f"files using only present names: between {stats['files_low']:.1%} and "
                     f"{stats['files_high']:.1%} of {stats['total_files']} (name counts only; see --help)")
    top = sorted(stats["missing"].items(), key=lambda kv: (-kv[1], kv[0]))[:show_missing]
    if top:
        lines.append("most used missing names (files): " + ", ".join(f"{n} ({c})" for n, c in top))
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("usage", nargs="?", help="usage TSV (name counts or per-file uses)")
    p.add_argument("--scan", help="directory of Python files to count tf.* uses in, instead of a TSV")
    p.add_argument("--tf-names", help="JSON object keyed by TF's dotted names: report which are missing")
    p.add_argument("--exclude", default=",".join(DEFAULT_EXCLUDE),
                   help="comma-separated tf.<namespace> prefixes to leave out (default: %(default)s)")
    p.add_argument("--total-files", type=int, default=None, help="corpus size, if the TSV does not say")
    p.add_argument("--missing", type=int, default=30, help="how many missing names to list")
    args = p.parse_args(argv)
    import jitgraph
    if args.tf_names:
        print(tf_names_report(args.tf_names, jitgraph, args.missing))
        return 0
    if args.scan:
        rows, total = scan(args.scan), None
        if not rows:
            p.error(f"no tf.* names found under {args.scan}")
    elif args.usage:
        rows, total = read_usage(args.usage)
    else:
        p.error("give a usage TSV, --scan DIR or --tf-names FILE")
    exclude = tuple(x for x in args.exclude.split(",") if x)
    stats = coverage(rows, args.total_files or total, jitgraph, exclude)
    print(report(stats, args.missing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
