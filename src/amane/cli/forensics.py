"""``amane forensics``: trace extraction and file-system commands (registered from ``main``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from amane.cli.main import JsonOpt, _fail, _field_error, _progress, err, forensics_app, out
from amane.model.errors import AmaneError, ValidationFailed


@forensics_app.command("scan")
def forensics_scan(
    path: Path,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Write feature files, histograms and "
                                                                 "report.json to this (new or empty) folder")] = None,
    jobs: Annotated[int, typer.Option(help="Processes (split the source into byte ranges)")] = 1,
    extractors: Annotated[str | None, typer.Option(help="Comma-separated extractors (default: all)")] = None,
    engine: Annotated[str, typer.Option(help="auto (Hyperscan when installed), hyperscan or re")] = "auto",
    no_recurse: Annotated[bool, typer.Option("--no-recurse", help="Do not open ZIP/GZIP found in the data")] = False,
    item: Annotated[int | None, typer.Option(help="Digital evidence item the data comes from: the selectors "
                                                   "found are kept with it and matched against the records")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Scan a raw disk image, a directory or a file for e-mails, phones, URLs, .onion, IPs, card numbers,
    IBANs, crypto addresses and EXIF/GPS (UTF-8 and UTF-16LE, inside ZIP/GZIP too), like bulk_extractor.
    With --item, the result is attached to that evidence item and the records holding its selectors
    are listed."""
    from amane.forensics import Options, scan

    names = [e.strip() for e in extractors.split(",") if e.strip()] if extractors else None
    svc = None
    if item is not None:
        from amane.cli.main import _services
        from amane.services.context import Actor

        svc = _services()
        try:
            svc.traces.scans(Actor.system(source="cli"), item)  # the item exists (before a long scan)
        except AmaneError as exc:
            svc.close()
            _fail(exc)
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
    if svc is not None and item is not None:
        from amane.services.context import Actor

        try:
            actor = Actor.system(source="cli")
            data["scan_id"] = svc.traces.attach(actor, item, result)["id"]
            data["record_hits"] = svc.traces.hits(actor, item)
        finally:
            svc.close()
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return
    for h in data.get("record_hits", []):
        err.print(f"{h['kind']} {h['value']}: {h['record']['schema']} {h['record']['caption']} ({h['record']['unit']})")
    t = Table("feature", "count")
    for kind, n in sorted(result.counts().items(), key=lambda kv: -kv[1]):
        t.add_row(kind, str(n))
    out.print(t)
    err.print(f"{data['bytes_scanned']:,} bytes in {data['seconds']} s ({data['mb_per_s']} MB/s, {data['engine']}); "
              f"{len(result.skipped)} region(s) skipped" + (f"; files in {out_dir}" if out_dir else ""))



# -- file systems (The Sleuth Kit), hash sets -------------------------------------------------

_INODE = re.compile(r"^[0-9]+(?:-[0-9]+(?:-[0-9]+)?)?$")


def _open_image(image: Path) -> Any:
    from amane.forensics.filesystems import ImageError, SleuthKitMissing, open_image

    try:
        return open_image(image)
    except FileNotFoundError as exc:
        _fail(ValidationFailed([_field_error("image", "path.unusable", str(exc))]))
    except SleuthKitMissing as exc:
        _fail(ValidationFailed([_field_error("image", "sleuthkit.missing", str(exc))]))
    except (ImageError, OSError) as exc:
        _fail(ValidationFailed([_field_error("image", "image.unreadable", str(exc))]))


def _refuse_existing(field: str, path: Path | None) -> None:
    if path is not None and (path.exists() or not path.parent.is_dir()):
        why = "already exists; it is not overwritten" if path.exists() else "is in a folder that does not exist"
        _fail(ValidationFailed([_field_error(field, "file.exists" if path.exists() else "path.unusable",
                                             f"{path} {why}")]))


def _report_skipped(img: Any) -> None:
    for s in img.skipped:
        err.print(f"[yellow]skipped[/] {s.what}: {s.reason}")


def _load_sets(paths: list[Path], kind: str) -> list[Any]:
    from amane.forensics.hashsets import load_hash_set

    sets = []
    for p in paths:
        try:
            hs = load_hash_set(p, kind=kind)
        except OSError as exc:
            _fail(ValidationFailed([_field_error(kind.replace("_", "-"), "path.unusable", str(exc))]))
        if hs.error_count:
            err.print(f"[yellow]{p}[/]: {hs.error_count} invalid line(s) ignored; "
                      + "; ".join(f"line {e.line}: {e.reason}" for e in hs.errors[:5]))
        if not len(hs):
            _fail(ValidationFailed([_field_error(kind.replace("_", "-"), "hashset.empty",
                                                 f"{p}: no MD5, SHA-1 or SHA-256 hash found")]))
        sets.append(hs)
    return sets


@forensics_app.command("files")
def forensics_files(
    image: Path,
    deleted_only: Annotated[bool, typer.Option("--deleted-only", help="Only deleted entries")] = False,
    do_hash: Annotated[bool, typer.Option("--hash", help="Hash regular files (SHA-256, MD5, SHA-1)")] = False,
    known_good: Annotated[list[Path] | None, typer.Option("--known-good", help="Known-good hash list "
                                                           "(NSRL CSV, one hash per line, sha256sum); files "
                                                           "in it are left out")] = None,
    known_bad: Annotated[list[Path] | None, typer.Option("--known-bad", help="Known-bad hash list; files in it "
                                                          "are flagged")] = None,
    partition: Annotated[int | None, typer.Option(help="Only this partition (number from 1)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the files of a disk image's file systems, deleted ones too (The Sleuth Kit), optionally hashed
    and matched against known-good and known-bad hash sets."""
    from amane.forensics.filesystems import hash_files, list_files
    from amane.forensics.hashsets import classify

    sets = _load_sets(known_good or [], "known_good") + _load_sets(known_bad or [], "known_bad")
    with _open_image(image) as img:
        if partition is not None and partition not in {p.number for p in img.partitions}:
            _fail(ValidationFailed([_field_error("partition", "partition.unknown",
                                                 f"no partition {partition}; partitions: "
                                                 + ", ".join(str(p.number) for p in img.partitions))]))
        entries = list(list_files(img, deleted_only=deleted_only, partition=partition))
        if do_hash or sets:
            with _progress() as prog:
                task = prog.add_task(f"hash {image.name}", total=None)
                entries = list(hash_files(img, entries,
                                          progress=lambda done, total: prog.update(task, completed=done,
                                                                                   total=total)))
        status: dict[int, str] = {}
        good = 0
        if sets:
            c = classify(entries, sets)
            for m in c.known_bad:
                status[id(m.entry)] = f"known_bad:{m.set_name}"
            for m in c.known_good:
                status[id(m.entry)] = "known_good"
            good = len(c.known_good)
            entries = [e for e in entries if status.get(id(e)) != "known_good"]
        _report_skipped(img)
        parts = img.partitions
    if as_json:
        rows = []
        for e in entries:
            d = e.to_dict()
            d["status"] = status.get(id(e), "")
            rows.append(d)
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        t = Table("part", "inode", "path", "size", "deleted", "modified (UTC)", *(["sha256"] if do_hash or sets
                                                                                   else []), "status")
        for e in entries:
            row = [str(e.partition), e.inode, e.path, f"{e.size:,}", "yes" if e.deleted else "",
                   e.mtime.strftime("%Y-%m-%d %H:%M:%S") if e.mtime else ""]
            if do_hash or sets:
                row.append((e.sha256 or "")[:16])
            row.append(status.get(id(e), ""))
            t.add_row(*row)
        out.print(t)
    fs = ", ".join(f"{p.number}: {p.fs_type or 'unreadable'}" for p in parts)
    bad = sum(1 for v in status.values() if v.startswith("known_bad"))
    err.print(f"{len(entries)} entries (partitions {fs})" + (f"; {good} known-good left out, {bad} known-bad"
                                                           if sets else ""))


@forensics_app.command("timeline")
def forensics_timeline(
    image: Path,
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write (must not exist)")],
    partition: Annotated[int | None, typer.Option(help="Only this partition (number from 1)")] = None,
) -> None:
    """Write the MAC(B) timeline of a disk image's file systems as CSV
    (time, macb, path, inode, size, deleted, partition)."""
    from amane.forensics.filesystems import timeline, write_timeline_csv

    _refuse_existing("out", out_file)
    with _open_image(image) as img:
        events = timeline(img, partition=partition)
        try:
            n = write_timeline_csv(events, out_file)
        except (FileExistsError, OSError) as exc:
            _fail(ValidationFailed([_field_error("out", "path.unusable", str(exc))]))
        _report_skipped(img)
    err.print(f"{n} events written to {out_file}")


@forensics_app.command("extract")
def forensics_extract(
    image: Path,
    inode: str,
    out_file: Annotated[Path, typer.Option("--out", help="File to write (must not exist)")],
    partition: Annotated[int | None, typer.Option(help="Partition holding the file (needed when there are "
                                                       "several file systems)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Copy one file (by its metadata address, as `files` lists it) out of a disk image, with its hashes."""
    from amane.forensics.filesystems import ImageError, extract_file, find_entry

    if not _INODE.match(inode):
        _fail(ValidationFailed([_field_error("inode", "inode.format", f"{inode!r} is not a metadata address "
                                             "(a number, or NUMBER-TYPE-ID on NTFS, e.g. 69-128-2)")]))
    _refuse_existing("out", out_file)
    with _open_image(image) as img:
        try:
            entry = find_entry(img, inode, partition=partition)
        except ImageError as exc:
            _fail(ValidationFailed([_field_error("partition", "partition.required", str(exc))]))
        except KeyError as exc:
            _fail(ValidationFailed([_field_error("inode", "inode.unknown", str(exc.args[0]))]))
        if entry.type != "r":
            _fail(ValidationFailed([_field_error("inode", "inode.not_a_file",
                                                 f"{inode} is {entry.path!r}, not a regular file")]))
        try:
            done = extract_file(img, entry, out_file)
        except FileExistsError as exc:
            _fail(ValidationFailed([_field_error("out", "file.exists", str(exc))]))
        except ImageError as exc:
            _fail(ValidationFailed([_field_error("inode", "file.unreadable", str(exc))]))
    if as_json:
        print(json.dumps(done.to_dict(), ensure_ascii=False, indent=1))
        return
    err.print(f"{done.path} ({done.read_bytes:,} of {done.size:,} bytes{', deleted' if done.deleted else ''}) "
              f"-> {out_file}\nsha256 {done.sha256}\nmd5    {done.md5}\nsha1   {done.sha1}")
