"""``amane watch``: cyber and open-source watch (ingest, classify, alerts, watchlists, exchange)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from amane.cli.main import JsonOpt, _call, _fail, _field_error, _progress, _services, app, err, out
from amane.model.errors import AmaneError, ValidationFailed
from amane.services.context import Actor

watch_app = typer.Typer(help="Cyber and open-source watch: collected web, dark-web and messaging content.",
                        no_args_is_help=True)
app.add_typer(watch_app, name="watch")
terms_app = typer.Typer(help="Watchlist terms (keywords, phrases, regular expressions, names).", no_args_is_help=True)
watch_app.add_typer(terms_app, name="terms")
feeds_app = typer.Typer(help="RSS/Atom feeds: configured addresses, fetched on a schedule (cron).",
                        no_args_is_help=True)
watch_app.add_typer(feeds_app, name="feeds")


@feeds_app.command("add")
def feeds_add(
    name: str,
    url: str,
    unit: Annotated[str, typer.Option(help="Unit responsible for the feed's items")],
    as_json: JsonOpt = False,
) -> None:
    """Configure a feed (only configured addresses are ever fetched)."""
    data = _call(lambda svc: svc.watch.add_feed(_actor(), name, url, unit=unit))
    if as_json:
        _print(data)
    else:
        out.print(f"feed {data['name']}: {data['url']}")


@feeds_app.command("fetch")
def feeds_fetch(
    timeout: Annotated[float, typer.Option(help="Seconds allowed per feed")] = 10.0,
    as_json: JsonOpt = False,
) -> None:
    """Fetch every configured feed and ingest its new entries (run it from cron)."""
    data = _call(lambda svc: svc.watch.fetch_feeds(_actor(), timeout=timeout))
    if as_json:
        _print(data)
        return
    for name, rep in data.items():
        out.print(f"{name}: {rep['ingested']} new, {rep['already']} already, {rep['alerts']} alerts"
                  + (f", {len(rep['skipped'])} skipped ({rep['skipped'][0]['reason']})" if rep["skipped"] else ""))


def _actor() -> Actor:
    return Actor.system(source="cli")


def _print(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1, default=str))


def _show_report(data: dict[str, Any], first: tuple[str, ...] = ()) -> None:
    """An ingest report as a table of counts (``first``: a collector's own counts before them), then
    the first skipped inputs with their reasons."""
    keys = (*first, "ingested", "duplicates", "near_duplicates", "already", "alerts")
    t = Table(*(k.replace("_", " ") for k in keys), "skipped")
    t.add_row(*(str(data.get(k, 0)) for k in keys), str(len(data["skipped"])))
    out.print(t)
    for sk in data["skipped"][:20]:
        err.print(f"  skipped {sk['location']}: {sk['reason']} ({sk['message']})")


@watch_app.command("ingest")
def watch_ingest(
    path: Path,
    source: Annotated[str, typer.Option(help="Source name (created on first use)")],
    fmt: Annotated[str, typer.Option("--format", help="auto, html, text, pdf, telegram, jsonl or rss")] = "auto",
    unit: Annotated[str | None, typer.Option(help="Unit responsible for a new source (its analysts get the "
                                                  "alerts)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest a folder of collected pages, a Telegram Desktop export (result.json), a JSON Lines file of
    posts or a saved RSS/Atom feed; prints counts (ingested, duplicates, alerts) and what was skipped."""
    from amane.watch.sources import read_path

    svc = _services()
    try:
        if not path.exists():
            raise ValidationFailed([_field_error("path", "path.missing", f"{path} does not exist")])
        with _progress() as prog:
            task = prog.add_task(f"ingest {path.name}", total=None)
            docs = read_path(path, source, fmt, progress=lambda done, total: prog.update(task, completed=done,
                                                                                         total=total))
            kind = fmt if fmt in ("telegram", "jsonl", "rss", "html", "text", "pdf") else "folder"
            report = svc.watch.ingest(_actor(), docs, source=source, kind=kind, unit=unit)
    except (AmaneError, ValueError) as exc:
        _fail(exc if isinstance(exc, AmaneError) else ValidationFailed([_field_error("format", "enum", str(exc))]))
    finally:
        svc.close()
    data = report.as_dict()
    if as_json:
        _print(data)
        return
    _show_report(data)


@watch_app.command("crawl")
def watch_crawl(
    seeds: Annotated[list[str], typer.Argument(help="Addresses to start from (http/https; .onion through --proxy)")],
    source: Annotated[str, typer.Option(help="Source name (created on first use)")],
    unit: Annotated[str | None, typer.Option(help="Unit responsible for a new source")] = None,
    max_pages: Annotated[int, typer.Option(help="Pages fetched at most")] = 200,
    depth: Annotated[int, typer.Option(help="Links followed away from the seeds (0: the seeds only)")] = 2,
    delay: Annotated[float, typer.Option(help="Seconds between two requests to the same site")] = 1.0,
    timeout: Annotated[float, typer.Option(help="Seconds allowed per request")] = 15.0,
    robots: Annotated[bool, typer.Option("--robots/--no-robots",
                                         help="Honour robots.txt on the clear web (onion sites: never read)")] = True,
    proxy: Annotated[str | None, typer.Option(help="Proxy, e.g. socks5h://127.0.0.1:9050 for Tor (default: the "
                                                   "AMANE_WATCH_PROXY setting)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Collect pages from the seeds and the pages they link to on the same sites (within the limits),
    then ingest them like a folder drop; prints counts and what was skipped, with the reason."""
    svc = _services()
    try:
        with _progress() as prog:
            task = prog.add_task("crawl", total=max_pages)
            report = svc.watch.crawl(_actor(), seeds, source=source, unit=unit, max_pages=max_pages,
                                     max_depth=depth, delay=delay, timeout=timeout, robots=robots, proxy=proxy,
                                     progress=lambda done, total: prog.update(task, completed=done, total=total))
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()
    data = report.as_dict()
    if as_json:
        _print(data)
        return
    _show_report(data, ("fetched",))


@watch_app.command("classify")
def watch_classify(
    text: Annotated[str | None, typer.Argument(help="Text (default: read standard input)")] = None,
    threshold: Annotated[float, typer.Option(help="Score from which a category is reported")] = 0.5,
    as_json: JsonOpt = False,
) -> None:
    """Classify one text: language, categories with scores and evidence words, selectors. No database."""
    from amane.services.watch import classification_payload

    body = text if text is not None else sys.stdin.read()
    if not body.strip():
        _fail(ValidationFailed([_field_error("text", "property.required", "give a text or pipe one in")]))
    data = classification_payload(body, threshold)
    if as_json:
        _print(data)
        return
    out.print(f"language: {data['language']['language']} ({data['language']['script']})")
    for x in data["categories"]:
        out.print(f"{x['category']}: {x['score']}  [{', '.join(e['term'] for e in x['evidence'])}]")
    if not data["categories"]:
        out.print("no category")
    for sel in data["selectors"]:
        out.print(f"{sel['kind']}: {sel['value']}")


@watch_app.command("alerts")
def watch_alerts(
    status: Annotated[str, typer.Option(help="open, relevant, not_relevant, escalated or all")] = "open",
    limit: Annotated[int, typer.Option(help="At most this many")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The alert triage queue, best score first."""
    rows, total = _call(lambda svc: svc.watch.alerts(_actor(), status=None if status == "all" else status,
                                                      per_page=limit))
    if as_json:
        _print({"total": total, "alerts": rows})
        return
    t = Table("id", "score", "category", "source", "reasons", "text")
    for a in rows:
        t.add_row(str(a["id"]), str(a["score"]), a["item"]["top_category"] or "-", a["item"]["source"],
                  ", ".join(r["rule"] for r in a["reasons"]), a["item"]["snippet"][:60])
    out.print(t)
    err.print(f"{total} alert(s)")


@watch_app.command("triage")
def watch_triage(
    alert_id: int,
    verdict: Annotated[str, typer.Argument(help="relevant, not_relevant or escalated")],
    labels: Annotated[str | None, typer.Option(help="Comma-separated categories the analyst confirms")] = None,
    note: Annotated[str, typer.Option(help="Note")] = "",
    case: Annotated[int | None, typer.Option(help="Case file to attach the item to (when escalating)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a verdict on an alert (the confirmed categories are the classifier's feedback)."""
    lab = [x.strip() for x in labels.split(",") if x.strip()] if labels is not None else None
    data = _call(lambda svc: svc.watch.triage(_actor(), alert_id, verdict, labels=lab, note=note, case_id=case))
    if as_json:
        _print(data)
    else:
        out.print(f"alert {alert_id}: {data['status']}")


@watch_app.command("export")
def watch_export(
    since: Annotated[str | None, typer.Option(help="Items collected since this date (YYYY-MM-DD)")] = None,
    tlp: Annotated[str, typer.Option(help="clear, green, amber, amber+strict or red")] = "amber",
    fmt: Annotated[str, typer.Option("--format", help="stix or misp")] = "stix",
    items: Annotated[str | None, typer.Option(help="Comma-separated item ids (default: items triaged "
                                                   "relevant or escalated)")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to this new file (default: stdout)")] = None,
) -> None:
    """Export items and their selectors as a STIX 2.1 bundle (TLP 2.0 markings) or a MISP event."""
    svc = _services()
    try:
        ids = None
        if items:
            try:
                ids = [int(x) for x in items.split(",") if x.strip()]
            except ValueError:
                raise ValidationFailed([_field_error("items", "integer.list", "comma-separated item ids")]) from None
        if out_file is not None and out_file.exists():
            raise ValidationFailed([_field_error("out", "path.exists", f"{out_file} exists; not overwritten")])
        data = svc.watch.export(_actor(), since=since, tlp=tlp, fmt=fmt, item_ids=ids)
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()
    text = json.dumps(data, ensure_ascii=False, indent=1, default=str)
    if out_file is None:
        print(text)
    else:
        out_file.write_text(text, encoding="utf-8")
        err.print(f"written {out_file}")


@watch_app.command("import")
def watch_import(
    path: Path,
    source_name: Annotated[str, typer.Option(help="Partner name kept with the indicators")] = "",
    unit: Annotated[str | None, typer.Option(help="Receiving unit")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a partner's STIX 2.1 bundle (indicators and observables); re-importing changes nothing."""
    svc = _services()
    try:
        if not path.is_file():
            raise ValidationFailed([_field_error("path", "path.missing", f"{path} is not a file")])
        data = svc.watch.import_stix(_actor(), path.read_bytes(), source_name=source_name or path.stem,
                                     unit=unit or "DCCYBER")
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()
    if as_json:
        _print(data)
    else:
        out.print(f"{data['added']} indicator(s) added, {data['already']} already known, "
                  f"{len(data['skipped'])} object(s) skipped")


@watch_app.command("evaluate")
def watch_evaluate(
    feedback: Annotated[bool, typer.Option("--feedback/--no-feedback",
                                           help="Also retrain with the analysts' triage labels and "
                                                "compare")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Measure the classifier on the held-out evaluation set and on the analysts' feedback; with
    --feedback, retrain with that feedback and show both models' figures."""
    from amane.watch.classify import (
        MODES,
        Classifier,
        default_classifier,
        default_mode,
        evaluate,
        evaluation_examples,
        training_examples,
    )

    held_out = evaluation_examples()
    base = default_classifier()

    def scorer(model: Any) -> Any:
        return lambda text: {c.category for c in model.predict(text).categories}

    result: dict[str, Any] = {"held_out": {"shipped": evaluate(scorer(base), held_out)}}
    if feedback:
        fb = _call(lambda svc: svc.watch.feedback(_actor()))
        result["feedback_items"] = len(fb)
        if fb:
            fb_examples = [{"id": f"fb{i}", "text": t, "labels": sorted(lab), "language": "unknown",
                            "source": "analyst feedback"} for i, (t, lab) in enumerate(fb)]
            retrained = Classifier.train(list(training_examples()) + fb, **MODES[default_mode()])
            result["held_out"]["retrained"] = evaluate(scorer(retrained), held_out)
            result["feedback"] = {"shipped": evaluate(scorer(base), fb_examples)}
    if as_json:
        _print(result)
        return
    for name, m in result["held_out"].items():
        out.print(f"held-out set, {name} model: macro-F1 {m.get('macro_f1')}")
    if "feedback" in result:
        out.print(f"analyst feedback ({result['feedback_items']} items), shipped model: "
                  f"macro-F1 {result['feedback']['shipped'].get('macro_f1')}")


@terms_app.command("list")
def terms_list(as_json: JsonOpt = False) -> None:
    """Active watchlist terms."""
    rows = _call(lambda svc: svc.watch.terms(_actor()))
    if as_json:
        _print(rows)
        return
    t = Table("id", "unit", "kind", "pattern", "category", "label")
    for r in rows:
        t.add_row(str(r["id"]), r["unit"], r["kind"], r["pattern"], r["category"] or "-", r["label"])
    out.print(t)


@terms_app.command("add")
def terms_add(
    kind: Annotated[str, typer.Argument(help="keyword, phrase, regex or name")],
    pattern: str,
    unit: Annotated[str, typer.Option(help="Unit whose sources (and those below) the term applies to")],
    category: Annotated[str | None, typer.Option(help="Category the term points to")] = None,
    label: Annotated[str, typer.Option(help="Label shown on hits")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Add a watchlist term (written once, matched across scripts and spellings)."""
    data = _call(lambda svc: svc.watch.add_term(_actor(), kind, pattern, category=category, label=label, unit=unit))
    if as_json:
        _print(data)
    else:
        out.print(f"term {data['id']} added")


@terms_app.command("remove")
def terms_remove(term_id: int) -> None:
    """Deactivate a watchlist term (kept for the history of past hits)."""
    _call(lambda svc: svc.watch.remove_term(_actor(), term_id))
    out.print(f"term {term_id} removed")
