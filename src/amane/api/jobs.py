"""Long work started from a web page (a duplicate search, a crawl) runs in a thread of the serving
process; the page the user is sent to polls the job (htmx) and shows its stage and progress, then
the result or the error.

The job's state is also written to a small JSON file under ``data_dir/jobs`` (atomically: a
temporary file renamed over the old one) whenever it changes, at most twice a second, and every few
seconds as a heartbeat while the work runs: with ``amane serve --workers N`` the page's next request
may reach another server process, which reads the file. A job whose heartbeat stopped (its process
was stopped or killed) is reported as interrupted instead of running forever.

A job is visible only to the user who started it (anyone else, and an unknown id, get the same 404);
finished jobs are forgotten after an hour. The work itself goes through the services, so its access
checks and audit are the same as from the API or the CLI."""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from amane.services.errors import NotFound, ValidationFailed

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total)"""

KEEP_S = 3600
"""Finished jobs are forgotten after this long."""
HEARTBEAT_S = 5.0
"""A running job's file is rewritten at least this often."""
STALE_S = 60.0
"""A job whose file is older than this and not finished was interrupted."""
SAVE_EVERY_S = 0.5
INTERRUPTED = "interrupted: the server process running it stopped"
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass
class Job:
    id: str
    kind: str  # "resolve", "crawl"...
    user: str
    label: str = ""  # what the job works on, for its page ("market-site")
    started: float = field(default_factory=time.time)
    stage: str = ""
    done: int = 0
    total: int = 0
    finished: bool = False
    result: dict[str, Any] | None = None
    error: str = ""
    beat: float = field(default_factory=time.time)  # the last time its process wrote it

    @property
    def elapsed(self) -> float:
        return time.time() - self.started


_jobs: dict[str, Job] = {}
_lock = threading.Lock()


def folder(svc: Any) -> Path:
    """Where the jobs of these services keep their state (``data_dir/jobs``)."""
    return Path(svc.settings.data_dir) / "jobs"


def _path(directory: Path, job_id: str) -> Path:
    return directory / f"{job_id}.json"


def _save(directory: Path, job: Job) -> None:
    job.beat = time.time()
    path = _path(directory, job.id)
    tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(asdict(job), ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, path)


def _forget_old(directory: Path) -> None:
    now = time.time()
    with _lock:
        for k in [k for k, j in _jobs.items() if j.finished and now - j.started > KEEP_S]:
            del _jobs[k]
    for f in directory.glob("*.json"):
        try:
            if now - f.stat().st_mtime > KEEP_S:
                f.unlink(missing_ok=True)
        except OSError:
            continue


def start(kind: str, user: str, work: Callable[[Progress], dict[str, Any]], *, directory: Path,
          label: str = "") -> Job:
    """Run ``work(progress)`` in a thread; its return value becomes ``job.result``."""
    directory.mkdir(parents=True, exist_ok=True)
    _forget_old(directory)
    job = Job(secrets.token_urlsafe(12), kind, user, label)
    with _lock:
        _jobs[job.id] = job
    save_lock = threading.Lock()
    last = [0.0]
    dirty = threading.Event()

    def save(force: bool = False) -> None:
        with save_lock:
            if force or time.time() - last[0] >= SAVE_EVERY_S:
                last[0] = time.time()
                dirty.clear()
                _save(directory, job)
            else:
                dirty.set()  # written by the heartbeat within SAVE_EVERY_S

    def progress(stage: str, done: int, total: int) -> None:
        job.stage, job.done, job.total = stage, done, total
        save()

    def heartbeat() -> None:
        while not job.finished:
            time.sleep(SAVE_EVERY_S)
            if not job.finished and (dirty.is_set() or time.time() - last[0] >= HEARTBEAT_S):
                save(force=True)

    def run() -> None:
        try:
            job.result = work(progress)
        except ValidationFailed as exc:
            job.error = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        except Exception as exc:  # noqa: BLE001 - shown to the user, logged by the thread
            job.error = str(exc) or exc.__class__.__name__
        finally:
            job.finished = True
            save(force=True)

    save(force=True)
    threading.Thread(target=run, name=f"{kind}-{job.id}", daemon=True).start()
    threading.Thread(target=heartbeat, name=f"{kind}-{job.id}-beat", daemon=True).start()
    return job


def get(kind: str, user: str, job_id: str, *, directory: Path) -> Job:
    """The user's own job of that kind, from this process or from its file; anything else is
    NotFound."""
    job = _jobs.get(job_id)
    if job is None and _ID_RE.match(job_id):
        try:
            data = json.loads(_path(directory, job_id).read_text(encoding="utf-8"))
            job = Job(**data)
        except (OSError, ValueError, TypeError):
            job = None
        if job is not None and not job.finished and time.time() - job.beat > STALE_S:
            job.finished, job.error = True, INTERRUPTED
    if job is None or job.kind != kind or job.user != user:
        raise NotFound("job", job_id)
    return job
