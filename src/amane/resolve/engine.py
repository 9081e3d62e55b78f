"""resolve(): person records in, likely duplicates (pairs with evidence) and clusters out.

1. features (Python, ``features``): name skeletons from ``amane.names``, dates, ids, places;
2. blocking keys (DuckDB): composite keys over the features, each dropped where more than
   the key's cap (``model.BLOCKING_KEYS``) share it, so the pairs compared stay bounded;
3. parameters: the shipped m/u priors of ``model``; with enough records, u re-estimated by
   Splink's random sampling (seeded) and the prior probability of a match by Splink from strict
   deterministic rules; term-frequency adjustments of given and family names on large inputs;
4. scoring (Splink, DuckDB in memory): Fellegi-Sunter over the candidate pairs;
5. explanation (the level and weight of every comparison) and connected components (Python).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from .features import build_columns
from .model import BLOCKING_KEYS, COMPARISONS, LOOSE_CAP, NEUTRAL_SWAP, comparison_dicts, priors
from .records import Cluster, FieldEvidence, Pair, PersonRecord, ResolveResult

Progress = Callable[[str, int, int], None]

SEED = 42
U_MIN_RECORDS = 1_000
"""Below this, u stays at the shipped priors (a random sample of a few hundred pairs says
little); from it on, u is estimated by random sampling."""
U_MAX_PAIRS = 1_000_000
TF_MIN_RECORDS = 5_000
"""Term-frequency adjustments of names from this many records on: on small inputs every name is
rare, and the frequencies would understate how common a name is in the population."""
LAMBDA_RECALL = 0.6
"""Assumed share of the true duplicate pairs that the strict rules below find (a documented
assumption, not a measurement)."""
LAMBDA_RULES = (
    "l.nid = r.nid AND l.g_sk = r.g_sk",
    "l.g_sk = r.g_sk AND l.f_sk = r.f_sk AND l.bdate = r.bdate",
)
FALLBACK_DUPLICATES_PER_RECORD = 0.01
"""When the strict rules find nothing: 1 duplicate per 100 records is assumed."""
MAX_LAMBDA = 0.05


def _blocking_sql() -> tuple[list[str], list[str], list[str]]:
    """(hash expressions of the blocking keys, their column names, the blocking rules)."""
    exprs, names, rules = [], [], []
    for i, (cols, _cap) in enumerate(BLOCKING_KEYS.values()):
        present = " AND ".join(f"{c} IS NOT NULL" for c in cols)
        exprs.append(f"CASE WHEN {present} THEN hash({', '.join(cols)}) END")
        names.append(f"bk{i}")
        rules.append(f"l.bk{i} = r.bk{i}")
    # names written in each other's field: (given, family) of one = (family, given) of the other
    swapped = "g_lk IS NOT NULL AND f_lk IS NOT NULL AND g_lk <> f_lk"
    exprs.append(f"CASE WHEN {swapped} THEN hash(g_lk, f_lk) END")
    exprs.append(f"CASE WHEN {swapped} THEN hash(f_lk, g_lk) END")
    names += ["bks_a", "bks_b"]
    rules += ["l.bks_a = r.bks_b", "l.bks_b = r.bks_a"]
    return exprs, names, rules


def _create_persons(con: Any) -> list[str]:
    """The features table with its blocking keys; a key shared by more records than its cap is
    set to NULL (the two swapped-name keys are capped on the (given, family) count)."""
    exprs, names, rules = _blocking_sql()
    hashed = ",\n  ".join(f"{e} AS h_{n}" for e, n in zip(exprs, names, strict=True))
    _exec(con, f"CREATE TABLE amane_hashed AS SELECT uid,\n  {hashed}\nFROM amane_features_arrow")
    caps = [cap for _cols, cap in BLOCKING_KEYS.values()] + [LOOSE_CAP, LOOSE_CAP]
    capped = []
    for n, cap in zip(names, caps, strict=True):
        over = "h_bks_a" if n.startswith("bks") else f"h_{n}"
        capped.append(f"CASE WHEN count(*) OVER (PARTITION BY {over}) <= {cap} THEN h_{n} END AS {n}")
    # windows over the narrow key table only, then one join: far cheaper than windows that carry
    # every feature column along
    _exec(con, "CREATE TABLE amane_keys AS SELECT uid,\n  " + ",\n  ".join(capped) + "\nFROM amane_hashed")
    _exec(con, "CREATE TABLE amane_persons AS SELECT f.*, " + ", ".join(f"k.{n}" for n in names)
          + " FROM amane_features_arrow f JOIN amane_keys k USING (uid) ORDER BY uid")
    _exec(con, "DROP TABLE amane_hashed")
    _exec(con, "DROP TABLE amane_keys")
    return rules


RULE_NAMES = [*BLOCKING_KEYS, "names swapped", "names swapped"]


def resolve(
    records: Sequence[PersonRecord],
    *,
    threshold: float = 0.9,
    progress: Progress | None = None,
    link_only: bool = False,
    pair_floor: float | None = None,
    train: bool = True,
) -> ResolveResult:
    """Find the records that are likely the same person.

    ``pairs``: every compared pair with probability >= ``pair_floor`` (default: ``threshold``),
    with the evidence of each comparison. ``clusters``: connected components of the pairs at or
    above ``threshold`` (singletons left out). ``link_only``: compare only records of different
    ``source`` values (linking datasets), never two of one source. ``train=False`` keeps every
    parameter at its shipped prior (deterministic by construction)."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError("threshold must be in (0, 1]")
    floor = threshold if pair_floor is None else min(pair_floor, threshold)
    timings: dict[str, float] = {}
    n = len(records)
    ids = [r.id for r in records]
    if len(set(ids)) != n:
        raise ValueError("record ids must be unique")
    stats: dict[str, Any] = {"records": n, "candidate_pairs": 0, "threshold": threshold, "link_only": link_only}
    if n < 2:
        stats.update(pairs=0, clusters=0, timings_s=timings, parameters="priors")
        return ResolveResult([], [], stats)

    def tick(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total)

    t0 = time.perf_counter()
    cols = build_columns(records, progress)
    timings["features"] = time.perf_counter() - t0

    import duckdb

    con = duckdb.connect(":memory:")
    try:
        result = _run(con, cols, records, ids, n, threshold, floor, link_only, train, stats, timings, tick)
    finally:
        con.close()
    result.stats.setdefault("timings_s", {})["total"] = round(time.perf_counter() - t0, 3)
    return result


def _run(
    con: Any,
    cols: dict[str, list[Any]],
    records: Sequence[PersonRecord],
    ids: list[str],
    n: int,
    threshold: float,
    floor: float,
    link_only: bool,
    train: bool,
    stats: dict[str, Any],
    timings: dict[str, float],
    tick: Progress,
) -> ResolveResult:
    import pyarrow as pa
    from splink import DuckDBAPI, Linker

    t = time.perf_counter()
    tick("blocking", 0, 1)
    table = pa.table(cols)
    cols.clear()  # the Python lists are no longer needed (the caller holds the same dict)
    con.register("amane_features_arrow", table)
    rules = _create_persons(con)
    con.unregister("amane_features_arrow")
    del table
    sources: list[str] = []
    if link_only:
        sources = [r[0] for r in _exec(con, "SELECT DISTINCT src FROM amane_persons ORDER BY src")]
        if len(sources) < 2:
            stats.update(pairs=0, clusters=0, timings_s=_round(timings), parameters="priors")
            return ResolveResult([], [], stats)
        for i, s in enumerate(sources):
            _exec(con, f"CREATE TABLE amane_src{i} AS SELECT * FROM amane_persons WHERE src = ?", [s])
        _exec(con, "DROP TABLE amane_persons")
    timings["blocking_keys"] = time.perf_counter() - t
    tick("blocking", 1, 1)

    db_api = DuckDBAPI(connection=con)
    if link_only:
        inputs: Any = [db_api.register(f"amane_src{i}") for i in range(len(sources))]
    else:
        inputs = db_api.register("amane_persons")
    tf = n >= TF_MIN_RECORDS
    settings: dict[str, Any] = {
        "link_type": "link_only" if link_only else "dedupe_only",
        "unique_id_column_name": "uid",
        "comparisons": comparison_dicts(tf=tf),
        "blocking_rules_to_generate_predictions": rules,
        "retain_matching_columns": True,  # Splink keeps the gamma (level) columns only with them
        "retain_intermediate_calculation_columns": True,
        "probability_two_random_records_match": 0.0001,
    }
    params = priors()
    parameters = "priors"
    total_pairs = _total_pairs(con, link_only, len(sources), n)

    # -- parameters ----------------------------------------------------------------------------
    t = time.perf_counter()
    tick("training", 0, 2)
    with _quiet():
        linker = Linker(inputs, settings, log_level=None)
    lam, lam_how = _estimate_lambda(linker, n, total_pairs, train)
    timings["estimate_lambda"] = time.perf_counter() - t
    tick("training", 1, 2)
    t = time.perf_counter()
    if train and n >= U_MIN_RECORDS:
        with _quiet():
            linker.training.estimate_u_using_random_sampling(
                max_pairs=min(U_MAX_PAIRS, float(total_pairs)), seed=SEED, min_count_per_level=None, num_chunks=1
            )
        params = _merge_u(params, linker.misc.save_model_to_json(), lam)
        parameters = "m priors, u estimated by random sampling"
    timings["estimate_u"] = time.perf_counter() - t
    tick("training", 2, 2)

    # -- scoring -------------------------------------------------------------------------------
    t = time.perf_counter()
    tick("scoring", 0, 1)
    settings = dict(
        settings, comparisons=comparison_dicts(tf=tf, params=params), probability_two_random_records_match=lam
    )
    with _quiet():
        linker = Linker(inputs, settings, log_level=None)
        blocked = linker.inference.compute_blocked_pairs_for_predict()
        by_rule = dict(_exec(con, f"SELECT match_key, count(*) FROM {blocked.physical_name} GROUP BY 1 ORDER BY 1"))
        timings["blocking"] = time.perf_counter() - t
        t = time.perf_counter()
        predictions = linker.inference.predict(threshold_match_probability=floor, warning_mode="never")
    compared = int(sum(by_rule.values()))
    timings["scoring"] = time.perf_counter() - t
    tick("scoring", 1, 1)

    # -- pairs and evidence ----------------------------------------------------------------------
    t = time.perf_counter()
    names = [spec.name for spec in COMPARISONS]
    sel = ", ".join(
        ["uid_l", "uid_r", "match_probability"]
        + [f"gamma_{c}" for c in names]
        + [f"mw_{c}" for c in names]
        + [f"mw_tf_adj_{c}" if tf and spec.tf_column else "0.0" for c, spec in zip(names, COMPARISONS, strict=True)]
    )
    rows = _exec(con, f"SELECT {sel} FROM {predictions.physical_name}")
    labels = _gamma_labels()
    k = len(names)
    pairs: list[Pair] = []
    for row in rows:
        i, j, p = int(row[0]), int(row[1]), float(row[2])
        fields: dict[str, FieldEvidence] = {}
        for c in range(k):
            g = row[3 + c]
            mw = float(row[3 + k + c]) + float(row[3 + 2 * k + c] or 0.0)
            label = labels[c].get(int(g), "?")
            name = names[c]
            fields[name] = _evidence(name, label, 0.0 if label == "missing" else mw, records[i], records[j])
        a, b = (i, j) if ids[i] < ids[j] else (j, i)
        if a != i:
            fields = {nm: FieldEvidence(ev.level, ev.weight, ev.b, ev.a) for nm, ev in fields.items()}
        pairs.append(Pair(ids[a], ids[b], p, fields))
    pairs.sort(key=lambda q: (-q.probability, q.a_id, q.b_id))
    timings["explain"] = time.perf_counter() - t

    t = time.perf_counter()
    tick("clustering", 0, 1)
    clusters = connected_components([(q.a_id, q.b_id, q.probability) for q in pairs if q.probability >= threshold])
    timings["clustering"] = time.perf_counter() - t
    tick("clustering", 1, 1)

    stats.update(
        candidate_pairs=compared,
        total_possible_pairs=total_pairs,
        pairs=len(pairs),
        pairs_at_threshold=sum(1 for q in pairs if q.probability >= threshold),
        clusters=len(clusters),
        parameters=parameters if train else "priors (training off)",
        probability_two_random_records_match=lam,
        probability_two_random_records_match_from=lam_how,
        tf_adjustments=tf,
        pairs_by_blocking_rule={
            _rule_name(str(key)): int(v) for key, v in sorted(by_rule.items(), key=lambda kv: str(kv[0]))
        },
        timings_s=_round(timings),
    )
    return ResolveResult(pairs, clusters, stats)


def _exec(con: Any, sql: str, params: list[Any] | None = None) -> list[Any]:
    """Run one statement to completion (DuckDB refuses other work while a result is unread)."""
    cur = con.execute(sql, params) if params is not None else con.execute(sql)
    try:
        return list(cur.fetchall())
    except Exception:  # statements without a result set
        return []


def _rule_name(match_key: str) -> str:
    try:
        return RULE_NAMES[int(match_key)]
    except (ValueError, IndexError):
        return match_key


def _round(timings: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in timings.items()}


@contextlib.contextmanager
def _quiet() -> Any:
    """Splink reports progress and advice ("increase max_pairs"...) through its loggers, at INFO
    and WARNING; the engine's callers get errors only (Splink prints nothing to stdout)."""
    log = logging.getLogger("splink")
    level = log.level
    if level < logging.ERROR:
        log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _total_pairs(con: Any, link_only: bool, n_sources: int, n: int) -> int:
    if not link_only:
        return n * (n - 1) // 2
    sizes = [int(_exec(con, f"SELECT count(*) FROM amane_src{i}")[0][0]) for i in range(n_sources)]
    total = sum(sizes)
    return (total * total - sum(s * s for s in sizes)) // 2


def _merge_u(
    params: dict[str, dict[str, tuple[float, float]]], model: dict[str, Any], lam: float
) -> dict[str, dict[str, tuple[float, float]]]:
    """Priors with u replaced by the estimated u of every level the random sample observed.

    Random pairs include true duplicates (a share ``lam`` of them), which inflate u of the
    agreeing levels: the observed u is lam*m + (1-lam)*u, so u = (observed - lam*m) / (1-lam).
    A level the sample never met (an exact national id among random pairs) keeps its prior u;
    no u goes below a tenth of its prior, so one chance agreement in a small sample cannot make a
    level worth more than the priors allow by a factor of 10."""
    out = {c: dict(levels) for c, levels in params.items()}
    for comp in model.get("comparisons", []):
        name = comp.get("output_column_name")
        if name not in out:
            continue
        for level in comp.get("comparison_levels", []):
            label = level.get("label_for_charts")
            u = level.get("u_probability")
            if label not in out[name] or label == NEUTRAL_SWAP or not isinstance(u, int | float) or not u > 0:
                continue
            m, u_prior = out[name][label]
            corrected = (float(u) - lam * m) / (1.0 - lam)
            out[name][label] = (m, max(corrected, u_prior / 10.0))
    return out


def _estimate_lambda(linker: Any, n: int, total_pairs: int, train: bool) -> tuple[float, str]:
    """Prior probability that two random records are the same person."""
    fallback = min(MAX_LAMBDA, FALLBACK_DUPLICATES_PER_RECORD * n / max(total_pairs, 1))
    if not train or total_pairs <= 0:
        return fallback, "fallback (duplicates per record assumed)"
    try:
        with _quiet():
            linker.training.estimate_probability_two_random_records_match(list(LAMBDA_RULES), recall=LAMBDA_RECALL)
        lam = float(linker._settings_obj._probability_two_random_records_match)
    except ValueError:
        return MAX_LAMBDA, "capped"
    if not lam > 0:
        return fallback, "fallback (duplicates per record assumed)"
    return min(lam, MAX_LAMBDA), "deterministic rules"


def _gamma_labels() -> list[dict[int, str]]:
    """Splink numbers levels: -1 for the null level, then k-1 .. 0 from the most specific."""
    out = []
    for spec in COMPARISONS:
        non_null = [label for label, _sql, m, _u in spec.levels if m is not None]
        mapping = {-1: "missing"}
        for idx, label in enumerate(non_null):
            mapping[len(non_null) - 1 - idx] = label
        out.append(mapping)
    return out


_NAME_FIELDS = {
    "given_name": ("given_name", "given_name_ar"),
    "family_name": ("family_name", "family_name_ar"),
}


def _is_arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


def _value(rec: PersonRecord, name: str) -> str | None:
    if name in _NAME_FIELDS:
        vals = [getattr(rec, f) for f in _NAME_FIELDS[name] if getattr(rec, f)]
        return " / ".join(vals) if vals else None
    v = getattr(rec, name, None)
    return str(v) if v else None


def _scripts(rec: PersonRecord, name: str) -> set[str]:
    if name in _NAME_FIELDS:
        la, ar = (getattr(rec, f) for f in _NAME_FIELDS[name])
        out = set()
        if la:
            out.add("ar" if _is_arabic(la) else "la")
        if ar:
            out.add("ar" if _is_arabic(ar) else "la")
        return out
    v = getattr(rec, name, None)
    return {"ar" if _is_arabic(v) else "la"} if v else set()


def _evidence(name: str, label: str, weight: float, a: PersonRecord, b: PersonRecord) -> FieldEvidence:
    va, vb = _value(a, name), _value(b, name)
    if name in ("given_name", "family_name", "father_name", "mother_name"):
        if label == "same name":
            sa, sb = _scripts(a, name), _scripts(b, name)
            if name == "father_name" and (a.father_name is None or b.father_name is None):
                sa, sb = set(), set()
            label = "cross-script same name" if sa and sb and not (sa & sb) else "same name, other spelling"
        if name == "father_name" and label != "missing":
            if va is None:
                va = _filiation_text(a)
            if vb is None:
                vb = _filiation_text(b)
    return FieldEvidence(label, weight, va, vb)


def _filiation_text(rec: PersonRecord) -> str | None:
    """The person's own name, when the father's name was read from it ("Mohamed ben Ahmed")."""
    parts = [rec.given_name, rec.given_name_ar, rec.family_name, rec.family_name_ar]
    text = " ".join(p for p in parts if p)
    return f"(from the name: {text})" if text else None


def connected_components(edges: Sequence[tuple[str, str, float]]) -> list[Cluster]:
    """Clusters of the ids joined by edges; min and mean probability of the edges inside."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for a, b, _p in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            parent[rb] = ra
    members: dict[str, list[str]] = {}
    for x in list(parent):
        members.setdefault(find(x), []).append(x)
    probs: dict[str, list[float]] = {}
    for a, _b, p in edges:
        probs.setdefault(find(a), []).append(p)
    out = [
        Cluster(sorted(ms), min(probs[root]), sum(probs[root]) / len(probs[root]))
        for root, ms in members.items()
        if len(ms) > 1
    ]
    out.sort(key=lambda c: (-len(c.ids), c.ids[0]))
    return out
