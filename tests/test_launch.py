"""The cluster launcher (focuslib.launch, ``--launcher slurm|local``). The SLURM tests run against a
real one-node cluster (``slurm_cluster`` fixture,
``.ci/slurm_up.sh``)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from focuslib import experiments, launch
from focuslib.config import RunConfig
from focuslib.resolve import resolve
from focuslib.store import FINAL, ResultsStore

REPO = Path(__file__).resolve().parents[1]
TABLE = ["table2", "--profile", "smoke", "--seeds", "0", "--rows", "ce", "focusnet", "--device", "cpu"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "focuslib.experiments", *args], capture_output=True, text=True,
                          timeout=900, env=env, cwd=REPO)


def _runs(results: Path) -> dict[str, Path]:
    """row -> the run folder of the table's ce and focusnet cells, each present exactly once."""
    cells = experiments.plan("table2", {"profile": "smoke", "seeds": [0]})
    store = ResultsStore(results)
    out = {}
    for row in ("ce", "focusnet"):
        cfg = next(c.config for c in cells if c.row == row)
        assert store.is_finished(cfg), row
        assert len(list(results.glob(f"smoke/{cfg.label()}-*"))) == 1
        out[row] = store.run_dir(cfg)
    assert len(list(results.glob("smoke/*"))) == 2  # nothing else trained
    return out


def _started(process: dict) -> float:
    return datetime.fromisoformat(process["started"]).timestamp()


# -- bad flags -------------------------------------------------------------------------------------
def test_cluster_flags_need_a_launcher(capsys):
    with pytest.raises(SystemExit):
        experiments.main([*TABLE, "--partition", "gpu"])
    assert "apply with --launcher only" in capsys.readouterr().err


def test_slurm_without_sbatch_is_a_one_line_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch here
    assert experiments.main([*TABLE, "--launcher", "slurm", "--results-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: --launcher slurm needs SLURM's sbatch on PATH: run on the cluster's login node"


def test_a_launcher_without_submitit_is_a_one_line_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "submitit", None)  # import fails
    assert experiments.main([*TABLE, "--launcher", "local", "--results-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == "error: --launcher local needs submitit: pip install 'focuslib[cluster]'"


def test_resources_come_from_the_profile_then_the_flags():
    profile = {"partition": "gpu", "gpus_per_job": 1, "time": 600}
    r = launch.Resources.from_profile(profile, time_min=30, cpus_per_job=None)
    assert (r.partition, r.gpus_per_job, r.cpus_per_job, r.time_min) == ("gpu", 1, 1, 30)
    with pytest.raises(ValueError, match="unknown key"):
        launch.Resources.from_profile({"gpu": 1})


# -- the local executor (CPU) ------------------------------------------------------------------------
def test_the_local_launcher_runs_the_baseline_then_focusnet_once(tmp_path):
    results = tmp_path / "results"
    done = _cli(*TABLE, "--results-dir", str(results), "--launcher", "local", "--time", "10")
    assert done.returncode == 0, done.stderr[-2000:]
    runs = _runs(results)
    ce, fn = (ResultsStore.processes(runs[r]) for r in ("ce", "focusnet"))
    assert len(ce) == len(fn) == 1 and _started(fn[0]) >= (runs["ce"] / FINAL).stat().st_mtime
    again = _cli(*TABLE, "--results-dir", str(results), "--launcher", "local")
    assert again.returncode == 0 and "submitted" not in again.stdout  # everything is in the store


# -- a real SLURM ------------------------------------------------------------------------------------
def _wait_for(jobs: list[str], timeout_s: float = 900) -> None:
    """Wait until none of ``jobs`` is pending or running (squeue; no accounting database needed)."""
    end = time.time() + timeout_s
    while time.time() < end:
        queued = subprocess.run(["squeue", "-h", "-r", "-o", "%i"], capture_output=True, text=True).stdout.split()
        if not set(jobs) & set(queued):
            return
        time.sleep(2)
    raise TimeoutError(f"jobs {jobs} still queued after {timeout_s} s")


@pytest.mark.slow
def test_slurm_runs_focusnet_after_its_baselines_job_and_stores_each_run_once(slurm_cluster, tmp_path):
    results = tmp_path / "results"
    done = _cli(*TABLE, "--results-dir", str(results), "--launcher", "slurm", "--partition", slurm_cluster,
                "--cpus-per-job", "1", "--time", "10")
    assert done.returncode == 0, done.stderr[-2000:]
    sent = [line.split() for line in done.stdout.splitlines() if line.startswith("submitted")]
    assert len(sent) == 2 and sent[0][1].startswith("digits-lenet5-ce-")
    assert sent[1][1].startswith("digits-lenet5-focusnet-")
    ce_job, fn_job = sent[0][5], sent[1][5]
    assert sent[1][-1] == ce_job  # "... after job <ce's job>"
    script = (results / ".submitit" / fn_job / f"{fn_job}_submission.sh").read_text()
    assert f"#SBATCH --dependency=afterok:{ce_job}" in script  # SLURM holds it: no poll
    _wait_for([ce_job, fn_job])
    runs = _runs(results)
    ce, fn = (ResultsStore.processes(runs[r]) for r in ("ce", "focusnet"))
    assert [p["slurm_job"] for p in ce + fn] == [ce_job, fn_job]  # each run once, by its own job
    assert _started(fn[0]) >= (runs["ce"] / FINAL).stat().st_mtime  # in dependency order
    again = _cli(*TABLE, "--results-dir", str(results), "--launcher", "slurm", "--partition", slurm_cluster)
    assert again.returncode == 0 and "submitted" not in again.stdout and "0 job(s) sent" in again.stderr


@pytest.mark.slow
def test_a_requeued_slurm_job_comes_back_and_resumes_from_its_checkpoint(slurm_cluster, tmp_path):
    results, epochs = tmp_path / "results", 80
    cfg = resolve(RunConfig(dataset="digits", model="lenet5", method="ce", seed=0, epochs=epochs, milestones=(),
                            batch_size=64, profile="smoke"))
    store = ResultsStore(results)
    runtime = experiments.make_runtime(data_root=None, results_dir=str(results), device="cpu", quiet=False, threads=1,
                                       keep_checkpoints=True)
    [sent] = launch.submit([cfg], store, runtime, "slurm", launch.Resources(partition=slurm_cluster, time_min=10),
                           tmp_path / "logs")
    job = sent.job.job_id
    metrics = store.run_dir(cfg) / "metrics.jsonl"
    end = time.time() + 600
    while not (metrics.exists() and len(metrics.read_text().splitlines()) >= 3):
        assert time.time() < end, "the job never trained 3 epochs"
        time.sleep(0.5)
    subprocess.run(["scontrol", "requeue", job], check=True)  # as a preemption does
    end = time.time() + 120
    squeue = ["squeue", "-h", "-j", job, "-o", "%T"]
    while "PENDING" not in subprocess.run(squeue, capture_output=True, text=True).stdout:
        assert time.time() < end, "the job was not requeued"
        time.sleep(0.5)
    subprocess.run(["scontrol", "update", f"JobId={job}", "StartTime=now"], check=True)  # skip SLURM's requeue hold
    _wait_for([job])
    assert store.is_finished(cfg)
    processes = ResultsStore.processes(store.run_dir(cfg))
    assert [p["slurm_job"] for p in processes] == [job, job]
    assert processes[0]["start_epoch"] == 0 and 3 <= processes[1]["start_epoch"] < epochs  # resumed, not restarted
    assert [r["epoch"] for r in store.read_metrics(store.run_dir(cfg))] == list(range(1, epochs + 1))
    log = (tmp_path / "logs" / job / f"{job}_0_log.err").read_text()
    assert f"resuming {cfg.label()} at epoch {processes[1]['start_epoch'] + 1}/{epochs}" in log
