"""``amane forensics``: trace extraction and file-system commands (registered from ``main``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from amane.cli.main import JsonOpt, _fail, _field_error, _progress, err, forensics_app, out
from amane.model.errors import ValidationFailed


@forensics_app.command("scan")
def forensics_scan(
    path: Path,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Write feature files, histograms and "
                                                                 "report.json to this (new or empty) folder")] = None,
    jobs: Annotated[int, typer.Option(help="Processes (split the source into byte ranges)")] = 1,
    extractors: Annotated[str | None, typer.Option(help="Comma-separated extractors (default: all)")] = None,
    engine: Annotated[str, typer.Option(help="auto (Hyperscan when installed), hyperscan or re")] = "auto",
    no_recurse: Annotated[bool, typer.Option("--no-recurse", help="Do not open ZIP/GZIP found in the data")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Scan a raw disk image, a directory or a file for e-mails, phones, URLs, .onion, IPs, card numbers,
    IBANs and crypto addresses (UTF-8 and UTF-16LE, inside ZIP/GZIP too), like bulk_extractor."""
    from amane.forensics import Options, scan

    names = [e.strip() for e in extractors.split(",") if e.strip()] if extractors else None
    try:
        with _progress() as prog:
            task = prog.add_task(f"scan {path.name}", total=None)
            result = scan(path, out_dir, jobs=jobs, extractors=names,
                          options=Options(engine=engine, recurse=not no_recurse),
                          progress=lambda done, total: prog.update(task, completed=done, total=total))
    except (FileNotFoundError, FileExistsError, NotADirectoryError, PermissionError) as exc:
        _fail(ValidationFailed([_field_error("path", "path.unusable", str(exc))]))
    except ValueError as exc:
        _fail(ValidationFailed([_field_error("extractors", "scan.input", str(exc))]))
    data = result.to_dict()
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return
    t = Table("feature", "count")
    for kind, n in sorted(result.counts().items(), key=lambda kv: -kv[1]):
        t.add_row(kind, str(n))
    out.print(t)
    err.print(f"{data['bytes_scanned']:,} bytes in {data['seconds']} s ({data['mb_per_s']} MB/s, {data['engine']}); "
              f"{len(result.skipped)} region(s) skipped" + (f"; files in {out_dir}" if out_dir else ""))


