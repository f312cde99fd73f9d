"""Send an artefact's missing runs to SLURM through submitit (``--launcher slurm``), or to local
processes through submitit's local executor (``--launcher local``).

Each run the artefact needs (baselines included, :func:`focuslib.planner.with_baselines`) that the
store does not hold finished becomes one job of :class:`RunJob`; runs that can start at once are
one job array. A two-stage run whose baseline is itself submitted waits for it by SLURM's
``--dependency=afterok:<baseline's job>`` (runs after the same baseline share one array), and is
cancelled if that job fails (``--kill-on-invalid-dep=yes``). The local executor has no
scheduler: it runs each wave of runs (baselines, then the runs on them) after the last.

A preempted, requeued or timed-out job comes back as the same job and resumes from the run's
``checkpoint.pt`` (:func:`focuslib.train.run` resumes by default; submitit's ``checkpoint``
hook requeues it on SLURM's warning signal). The store's lock is safe across machines
(:mod:`focuslib.store`), so jobs on several nodes share one results folder.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import RunConfig
from .planner import with_baselines
from .store import ResultsStore

if TYPE_CHECKING:  # submitit and the trainer load only when jobs are sent or run
    import submitit

    from .train import Runtime

LAUNCHERS = ("slurm", "local")
#: A job that keeps timing out requeues this many times (each resumes from its checkpoint).
MAX_TIMEOUTS = 20


@dataclass(frozen=True)
class Resources:
    """What each job asks the scheduler for (flags, else the profile's ``slurm:`` block)."""

    partition: str | None = None
    gpus_per_job: int = 0
    cpus_per_job: int = 1
    time_min: int = 240
    mem_gb: float | None = None

    @classmethod
    def from_profile(cls, profile: Mapping[str, Any], **flags: Any) -> Resources:
        """The profile's ``slurm:`` block (keys ``partition``, ``gpus_per_job``, ``cpus_per_job``,
        ``time`` in minutes, ``mem_gb``) overridden by the ``flags`` (fields of this class) that are
        not ``None``."""
        names = {"partition": "partition", "gpus_per_job": "gpus_per_job", "cpus_per_job": "cpus_per_job",
                 "time": "time_min", "mem_gb": "mem_gb"}
        unknown = sorted(set(profile) - set(names))
        if unknown:
            raise ValueError(f"unknown key(s) {unknown} in the profile's slurm block; known: {', '.join(names)}")
        given = {names[k]: v for k, v in profile.items()}
        return cls(**{**given, **{k: v for k, v in flags.items() if v is not None}})


@dataclass
class RunJob:
    """One run as a submitit job: ``__call__`` trains it (resuming from its checkpoint),
    ``checkpoint`` (submitit calls it on preemption or time-out) requeues the same job."""

    config: RunConfig
    runtime: Runtime

    def __call__(self) -> dict[str, Any] | None:
        from .train import run  # noqa: PLC0415

        return run(self.config, runtime=self.runtime).final

    def checkpoint(self, *args: Any, **kwargs: Any) -> submitit.helpers.DelayedSubmission:
        """Requeue this job unchanged: the trainer finds the run's ``checkpoint.pt`` and resumes."""
        from submitit.helpers import DelayedSubmission  # noqa: PLC0415

        return DelayedSubmission(self, *args, **kwargs)


@dataclass(frozen=True)
class Submitted:
    """One run sent as a job, and the job it waits for."""

    config: RunConfig
    job: submitit.Job[Any]
    after: str | None  # the baseline's job id (SLURM dependency afterok)


def check_launcher(launcher: str) -> None:
    """Raise ValueError with a one-line fix when ``launcher`` cannot run here."""
    if launcher not in LAUNCHERS:
        raise ValueError(f"unknown launcher {launcher!r}; known: {', '.join(LAUNCHERS)}")
    try:
        import submitit  # noqa: F401, PLC0415  (installed and importable)
    except ImportError:
        raise ValueError(f"--launcher {launcher} needs submitit: pip install 'focuslib[cluster]'") from None
    if launcher == "slurm" and shutil.which("sbatch") is None:
        raise ValueError("--launcher slurm needs SLURM's sbatch on PATH: run on the cluster's login node")


def executor(launcher: str, log_dir: Path, resources: Resources, name: str) -> submitit.AutoExecutor:
    """A submitit executor for ``launcher`` writing its job scripts and logs under ``log_dir``."""
    import submitit  # noqa: PLC0415

    ex = submitit.AutoExecutor(folder=log_dir / "%j", cluster=launcher, slurm_max_num_timeout=MAX_TIMEOUTS)
    params: dict[str, Any] = {"name": name, "timeout_min": resources.time_min, "nodes": 1, "tasks_per_node": 1,
                              "cpus_per_task": resources.cpus_per_job}
    if resources.gpus_per_job:
        params["gpus_per_node"] = resources.gpus_per_job
    if resources.mem_gb is not None:
        params["mem_gb"] = resources.mem_gb
    if resources.partition:
        params["slurm_partition"] = resources.partition
    ex.update_parameters(**params)
    return ex


def submit(configs: Sequence[RunConfig], store: ResultsStore, runtime: Runtime, launcher: str,
           resources: Resources, log_dir: Path, name: str = "focuslib") -> list[Submitted]:
    """Send every run of ``configs`` (and the baselines they need) that ``store`` does not hold
    finished as a job; see the module's docstring. The local launcher returns once all ran."""
    ex = executor(launcher, log_dir, resources, name)
    pending = [c for c in with_baselines(configs) if not store.is_finished(c)]
    sent: dict[str, Submitted] = {}
    while pending:
        waiting = {c.key() for c in pending}
        wave = [c for c in pending if c.teacher is None or c.teacher.key() not in waiting]
        groups: dict[str | None, list[RunConfig]] = {}
        for cfg in wave:
            baseline = sent.get(cfg.teacher.key()) if cfg.teacher is not None else None
            groups.setdefault(baseline.job.job_id if baseline else None, []).append(cfg)
        for after, group in groups.items():
            ex.update_parameters(slurm_dependency=f"afterok:{after}" if after else None,
                                 slurm_additional_parameters={"kill_on_invalid_dep": "yes"} if after else {})
            with ex.batch():
                jobs = [ex.submit(RunJob(cfg, runtime)) for cfg in group]
            for cfg, job in zip(group, jobs):
                sent[cfg.key()] = Submitted(cfg, job, after)
                print(f"submitted {cfg.label()} ({cfg.key()}) as job {job.job_id}"
                      f"{f' after job {after}' if after else ''}", flush=True)
        pending = [c for c in pending if c not in wave]
        if launcher == "local":  # no scheduler to hold the next wave: it starts once this one ran ...
            failed = {c.key() for c in wave if sent[c.key()].job.exception() is not None}
            pending = _without_users(pending, failed)  # ... without the runs on a baseline that failed
    return list(sent.values())


def _without_users(pending: list[RunConfig], failed: set[str]) -> list[RunConfig]:
    """``pending`` less the runs that need a run of ``failed``, directly or through another."""
    keep = []
    for cfg in pending:  # baselines come before their users
        if cfg.teacher is not None and cfg.teacher.key() in failed:
            failed.add(cfg.key())
        else:
            keep.append(cfg)
    return keep


def failures(submitted: Sequence[Submitted]) -> list[str]:
    """``label: error`` of every finished job that failed (for the local launcher, all have finished)."""
    out = []
    for s in submitted:
        error = s.job.exception()
        if error is not None:
            out.append(f"{s.config.label()} (job {s.job.job_id}): {str(error).strip().splitlines()[-1]}")
    return out
