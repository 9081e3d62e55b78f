"""bulk_extractor-style output: one feature file and one histogram per kind, plus ``report.json``.

Feature file ``<kind>.txt``: ``offset<TAB>feature<TAB>context`` per line, where offset is the byte
offset in the source, or ``<container chain>/<offset in member>`` for features inside ZIP/GZIP members,
prefixed by ``<file>:`` when a directory was scanned. Histogram ``<kind>_histogram.txt``:
``n=<count><TAB>feature`` sorted by count (descending) then feature. Files are written to a temporary
name, fsynced and renamed; an existing non-empty output directory is refused (nothing is overwritten).
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from pathlib import Path

from amane.forensics.scanner import Feature, ScanResult

HEADER = "# Amane forensics feature file\n# offset\tfeature\tcontext\n"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def feature_line(f: Feature) -> str:
    """One feature-file line (tabs and newlines in values are escaped)."""
    loc = f"{f.file}:{f.location}" if f.file else f.location
    if f.encoding != "utf-8":
        loc += f"-{f.encoding.upper()}"
    value = f.value.replace("\t", "\\t").replace("\n", "\\n")
    return f"{loc}\t{value}\t{f.context}\n"


def histogram(features: list[Feature]) -> list[tuple[int, str]]:
    """(count, value) pairs sorted by descending count, then value."""
    counts = Counter(f.value for f in features)
    return sorted(((n, v) for v, n in counts.items()), key=lambda p: (-p[0], p[1]))


def write_report(result: ScanResult, out_dir: str | os.PathLike[str]) -> Path:
    """Write feature files, histograms and ``report.json`` into ``out_dir`` (created; must be empty)."""
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"output directory is not empty: {out}")
    out.mkdir(parents=True, exist_ok=True)
    by_kind: dict[str, list[Feature]] = defaultdict(list)
    for f in result.features:
        by_kind[f.kind].append(f)
    for kind, feats in sorted(by_kind.items()):
        _write_atomic(out / f"{kind}.txt", HEADER + "".join(feature_line(f) for f in feats))
        hist = "".join(f"n={n}\t{v}\n" for n, v in histogram(feats))
        _write_atomic(out / f"{kind}_histogram.txt", hist)
    summary = result.to_dict()
    summary["feature_files"] = sorted(f"{k}.txt" for k in by_kind)
    _write_atomic(out / "report.json", json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return out
