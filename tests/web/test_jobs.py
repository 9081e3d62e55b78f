"""Background jobs of web pages (amane.api.jobs): progress and result readable from another server
process through the job's file, owner-only, bad ids refused, an interrupted job reported as such."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from amane.api import jobs
from amane.services.errors import FieldError, NotFound, ValidationFailed


def _wait(job: jobs.Job, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not job.finished and time.monotonic() < deadline:
        time.sleep(0.02)
    assert job.finished


def test_progress_and_result_from_another_process(tmp_path: Path) -> None:
    gate = threading.Event()

    def work(progress: jobs.Progress) -> dict[str, object]:
        progress("fetching", 3, 10)
        gate.wait(10)
        return {"pages": 10}

    job = jobs.start("crawl", "analyst1", work, directory=tmp_path, label="market")
    deadline = time.monotonic() + 5
    while job.stage != "fetching" and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(2 * jobs.SAVE_EVERY_S + 0.1)  # progress reaches the file within SAVE_EVERY_S
    code = ("import json, sys; from pathlib import Path; from amane.api import jobs; "
            "j = jobs.get('crawl', 'analyst1', sys.argv[1], directory=Path(sys.argv[2])); "
            "print(json.dumps([j.label, j.stage, j.done, j.total, j.finished, j.result]))")
    run = subprocess.run([sys.executable, "-c", code, job.id, str(tmp_path)], capture_output=True, text=True,
                         check=True)
    assert json.loads(run.stdout) == ["market", "fetching", 3, 10, False, None]
    gate.set()
    _wait(job)
    run = subprocess.run([sys.executable, "-c", code, job.id, str(tmp_path)], capture_output=True, text=True,
                         check=True)
    assert json.loads(run.stdout)[4:] == [True, {"pages": 10}]


def test_only_the_owner_and_the_kind_find_it(tmp_path: Path) -> None:
    job = jobs.start("crawl", "analyst1", lambda p: {"ok": 1}, directory=tmp_path)
    _wait(job)
    assert jobs.get("crawl", "analyst1", job.id, directory=tmp_path).result == {"ok": 1}
    for kind, user, jid in (("crawl", "analyst2", job.id), ("resolve", "analyst1", job.id),
                            ("crawl", "analyst1", "no-such-job-id"), ("crawl", "analyst1", "../../etc/passwd"),
                            ("crawl", "analyst1", "")):
        with pytest.raises(NotFound):
            jobs.get(kind, user, jid, directory=tmp_path)


def test_errors_and_interrupted_jobs(tmp_path: Path) -> None:
    def bad(progress: jobs.Progress) -> dict[str, object]:
        raise ValidationFailed([FieldError("seeds", "url.format", "not an http(s) address: x")])

    job = jobs.start("crawl", "a", bad, directory=tmp_path)
    _wait(job)
    assert job.error == "seeds: not an http(s) address: x" and job.result is None
    # a job whose process died while it ran: its file stops changing
    dead = jobs.Job("DeadJob123456", "crawl", "a", stage="fetching", beat=time.time() - jobs.STALE_S - 1)
    (tmp_path / "DeadJob123456.json").write_text(json.dumps(dead.__dict__), encoding="utf-8")
    got = jobs.get("crawl", "a", "DeadJob123456", directory=tmp_path)
    assert got.finished and got.error == jobs.INTERRUPTED
