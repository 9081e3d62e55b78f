"""Micro-benchmark of the model hot path of bulk imports: `python bench/model_validate.py`.

For 20,000 demo Person records (seed 7) it times, per row, what ``_PrepareContext.one`` in
``amane/services/imports.py`` asks of the model: ``validate`` then ``caption``, ``keys`` and
``references`` of the cleaned data. Best of 3 runs; every run starts with empty value caches
(``amane.model.types.clear_caches`` where it exists), as an import of new rows would.

A baseline is measured in the same run: ``dict(data)`` plus ``json.dumps`` of each row, the
least an import does with a row. The ratio to it is the figure to compare across runs on a
shared, noisy machine. Nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from amane.demo.generate import generate  # noqa: E402
from amane.model import types  # noqa: E402
from amane.model.schema import load_registry  # noqa: E402


def person_rows(count: int, seed: int) -> list[dict[str, Any]]:
    """The data of the first ``count`` demo Person records (persons come first)."""
    rows: list[dict[str, Any]] = []
    for record in generate(persons=count, incidents=0, seed=seed):
        if record.schema != "Person":
            break
        rows.append(dict(record.data))
    return rows


def clear_caches() -> None:
    clear: Callable[[], None] | None = getattr(types, "clear_caches", None)
    if clear is not None:
        clear()


def best_of(runs: int, func: Callable[[], None], *, cold: bool) -> float:
    best = float("inf")
    for _ in range(runs):
        if cold:
            clear_caches()
        gc.collect()
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--warm", action="store_true", help="keep value caches between runs")
    args = parser.parse_args()

    rows = person_rows(args.rows, args.seed)
    schema = load_registry().get("Person")
    validate, caption, keys, references = schema.validate, schema.caption, schema.keys, schema.references

    def model() -> None:
        for row in rows:
            data = validate(row)
            caption(data)
            keys(data)
            references(data)

    def baseline() -> None:
        dumps = json.dumps
        for row in rows:
            dumps(dict(row), ensure_ascii=False)

    model()  # imports, registry, phonenumbers metadata: loaded once, outside the timings
    n = len(rows)
    t_base = best_of(args.runs, baseline, cold=False)
    t_model = best_of(args.runs, model, cold=not args.warm)
    caches = "warm" if args.warm else "cold"
    print(f"{n} Person rows, best of {args.runs}, {caches} caches")
    print(f"  baseline dict()+json.dumps   {t_base / n * 1e6:7.2f} µs/row  {n / t_base:11,.0f} rows/s")
    print(f"  validate+caption+keys+refs   {t_model / n * 1e6:7.2f} µs/row  {n / t_model:11,.0f} rows/s")
    print(f"  ratio model/baseline         {t_model / t_base:7.2f}")


if __name__ == "__main__":
    main()
