"""The store's lock on a shared filesystem: atomic creation, a time/job/host/pid record, a
heartbeat, and the takeover of stale locks (a dead process of this host, this SLURM job before
its requeue, an expired lease of another host)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from focuslib import store as store_module
from focuslib.config import RunConfig
from focuslib.resolve import resolve
from focuslib.store import LOCK, ResultsStore, RunLockedError

REPO = Path(__file__).resolve().parents[1]


def _cfg() -> RunConfig:
    return resolve(RunConfig(dataset="digits", model="lenet5", method="ce", seed=0, epochs=1, milestones=(),
                             profile="smoke"))


def _foreign_lock(store: ResultsStore, cfg: RunConfig, age_s: float, record: str = "time=x otherhost 123") -> Path:
    path = store.run_dir(cfg) / LOCK
    path.parent.mkdir(parents=True)
    path.write_text(record)
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


def test_a_lock_records_time_host_and_pid_and_keeps_its_heartbeat(tmp_path, monkeypatch):
    import socket

    monkeypatch.setattr(store_module, "HEARTBEAT_SECONDS", 0.05)
    store = ResultsStore(tmp_path)
    with store.lock(_cfg()) as path:
        record = path.read_text()
        assert record.startswith("time=") and record.endswith(f" {socket.gethostname()} {os.getpid()}")
        then = time.time() - 3600
        os.utime(path, (then, then))
        time.sleep(0.5)
        assert time.time() - path.stat().st_mtime < 60  # refreshed by the heartbeat
    assert not path.exists()


def test_another_hosts_live_lock_is_refused_and_its_expired_lease_taken_over(tmp_path):
    store, cfg = ResultsStore(tmp_path), _cfg()
    path = _foreign_lock(store, cfg, age_s=10)
    with pytest.raises(RunLockedError, match="otherhost 123"):
        with store.lock(cfg):
            pass
    assert path.read_text() == "time=x otherhost 123"
    old = time.time() - store_module.LEASE_SECONDS - 60
    os.utime(path, (old, old))
    with store.lock(cfg):
        assert path.read_text().endswith(f" {os.getpid()}")


def test_a_lock_of_this_slurm_job_before_its_requeue_is_taken_over(tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.delenv("SLURM_ARRAY_JOB_ID", raising=False)
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    store, cfg = ResultsStore(tmp_path), _cfg()
    path = _foreign_lock(store, cfg, age_s=1, record="time=x job=4242 restart=1 othernode 77")
    with pytest.raises(RunLockedError):  # another process of this very run of the job (e.g. two workers)
        with store.lock(cfg):
            pass
    path.write_text("time=x job=4242 restart=0 othernode 77")  # the job's run before its requeue
    with store.lock(cfg):
        assert " job=4242 restart=1 " in path.read_text()


def test_one_of_several_processes_takes_over_a_stale_lock(tmp_path):
    store, cfg = ResultsStore(tmp_path), _cfg()
    _foreign_lock(store, cfg, age_s=store_module.LEASE_SECONDS + 60)
    go = tmp_path / "go"
    code = ("import sys, time; from pathlib import Path; from focuslib.store import ResultsStore, RunLockedError; "
            "from focuslib.config import RunConfig; from focuslib.resolve import resolve\n"
            "cfg = resolve(RunConfig(dataset='digits', model='lenet5', method='ce', seed=0, epochs=1, milestones=(), "
            "profile='smoke'))\n"
            "print('ready', flush=True)\n"
            f"while not Path({str(go)!r}).exists():\n    time.sleep(0.005)\n"
            f"try:\n    with ResultsStore({str(tmp_path)!r}).lock(cfg):\n"
            "        print('took', flush=True); time.sleep(3)\n"
            "except RunLockedError:\n    print('locked')\n")
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)}) for _ in range(4)]
    assert all(p.stdout.readline().strip() == "ready" for p in procs)
    go.touch()  # all try at once
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert sorted(outs) == ["locked", "locked", "locked", "took"]


def test_a_live_process_of_this_host_keeps_its_lock_however_old_its_heartbeat(tmp_path):
    """A lock of this host whose process is alive is never taken over on its age: e.g. a trainer
    started by code from before the heartbeat, whose lock is never refreshed."""
    import socket

    store, cfg = ResultsStore(tmp_path), _cfg()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        path = _foreign_lock(store, cfg, age_s=store_module.LEASE_SECONDS + 600,
                             record=f"{socket.gethostname()} {holder.pid}")
        with pytest.raises(RunLockedError, match=str(holder.pid)):
            with store.lock(cfg):
                pass
        assert path.read_text() == f"{socket.gethostname()} {holder.pid}"
    finally:
        holder.kill()
        holder.wait()
