"""The results store: one folder per run configuration, written atomically.

Layout: ``<root>/<profile>/<label>-<key>/`` holding ``config.yaml`` (the full
:class:`~focuslib.config.RunConfig` plus runtime facts), ``metrics.jsonl`` (one JSON row
per epoch), ``final.json`` (written last: a run is finished iff it exists),
``checkpoint.pt`` (resume state, every epoch) and ``model.pt`` (final weights, used as a
frozen baseline/teacher). A run whose configuration differs from a finished one only in more
epochs continues from that one's checkpoint (:meth:`ResultsStore.prefix`); a finished run keeps
its checkpoint for that unless the runtime says otherwise (the smoke profile's
``keep_checkpoints: false``). Checkpoints and
weights are never committed; the small text artifacts of the ``paper`` profile are (a two-stage
run that needs a committed baseline's weights trains it again in ``<root>/.retrain``, and only the
weights, with :data:`RETRAINED`, move into its folder: :func:`focuslib.train.retrain_weights`). While a
process trains a run, ``train.lock`` names it, so a second process (another terminal, a second
background job, a cluster job on another machine) never writes the same folder.

The lock is safe on a shared filesystem (NFS v3 and later, Lustre, GPFS): it is created with
``O_CREAT | O_EXCL``, atomic there too, and holds one line ``time=... [job=... restart=...] host pid``. Its
holder refreshes the file's modification time every :data:`HEARTBEAT_SECONDS` while it trains. A
lock is stale, and taken over, when its holder is a dead process of this host, when it names the
SLURM job this process is, in an earlier run of it (the job was requeued since), or, for a
holder on another machine, when its heartbeat is older than :data:`LEASE_SECONDS` by the shared
filesystem's own clock (that machine died). A live process of this host keeps its lock however old
its heartbeat (e.g. one started by code from before the heartbeat). A stale lock is removed under a
second ``O_EXCL`` file, so
two processes taking over the same lock never remove each other's fresh one.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .config import RunConfig

CONFIG, METRICS, FINAL, CHECKPOINT, WEIGHTS = "config.yaml", "metrics.jsonl", "final.json", "checkpoint.pt", "model.pt"
LOCK = "train.lock"
#: While training, the lock's holder refreshes its modification time this often (seconds) ...
HEARTBEAT_SECONDS = 60.0
#: ... and a lock of another host not refreshed for this long is stale (its holder died).
LEASE_SECONDS = 600.0
#: The scratch store inside a store's root where a finished run whose weights are missing is
#: trained again (:func:`focuslib.train.retrain_weights`), never read as results.
RETRAIN_DIR = ".retrain"
#: The sidecar beside a checkpoint or weights file holding the sha256 the store wrote it with.
DIGEST_SUFFIX = ".sha256.json"
#: Beside weights that :func:`focuslib.train.retrain_weights` trained again: the record's and the
#: retrain's final metrics and the retraining process (machine facts, like the weights: not committed).
RETRAINED = WEIGHTS + ".retrained.json"
#: The files the trainer writes into a run folder (through :func:`atomic_write_bytes`), sidecars included.
RUN_FILES = (CONFIG, METRICS, FINAL, CHECKPOINT, WEIGHTS, CHECKPOINT + DIGEST_SUFFIX, WEIGHTS + DIGEST_SUFFIX,
             RETRAINED)


class StoreConflictError(RuntimeError):
    """A run folder holds a configuration other than the one asked for."""


class RunLockedError(RuntimeError):
    """Another live process is training this run."""


class IntegrityError(RuntimeError):
    """A stored file differs from what the store wrote (its sha256, or final.json vs metrics.jsonl)."""


def lock_record() -> str:
    """This process's lock line: ``time=<UTC> [job=<SLURM job> restart=<its restarts>] host pid`` (host
    and pid last, as locks written before the time was recorded hold just ``host pid``)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    job = slurm_job()
    slurm = [f"job={job}", f"restart={_slurm_restarts()}"] if job else []
    return " ".join([f"time={stamp}", *slurm, socket.gethostname(), str(os.getpid())])


def slurm_job() -> str | None:
    """The SLURM job this process runs in (``<array job>_<task>`` for an array task), else None."""
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    return f"{array}_{task}" if array and task else os.environ.get("SLURM_JOB_ID")


def _slurm_restarts() -> int:
    """How many times SLURM has requeued or restarted this process's job (0 the first time)."""
    count = os.environ.get("SLURM_RESTART_COUNT", "0")
    return int(count) if count.isdigit() else 0


def _parse_holder(holder: str) -> tuple[str, str, dict[str, str]]:
    """(host, pid, fields) of a lock line (:func:`lock_record`, or an older ``host pid``)."""
    words = holder.split()
    fields = dict(w.split("=", 1) for w in words[:-2] if "=" in w)
    host, pid = (words[-2], words[-1]) if len(words) >= 2 else ("", "")
    return host, pid, fields


def yaml_problem(err: yaml.YAMLError) -> str:
    """A YAML parse error in one line: what the parser was reading and the problem, each with its
    line and column (PyYAML's own message spans lines and quotes the text)."""
    parts = []
    for text, mark in ((getattr(err, "context", None), getattr(err, "context_mark", None)),
                       (getattr(err, "problem", None), getattr(err, "problem_mark", None))):
        if text:
            parts.append(f"{text} at line {mark.line + 1}, column {mark.column + 1}" if mark else text)
    return " ".join(("; ".join(parts) or str(err)).split())


def _holder_is_gone(holder: str) -> bool:
    """True when the lock line names this process's SLURM job in an earlier run (before a requeue),
    or a process of this host that no longer exists."""
    host, pid, fields = _parse_holder(holder)
    me = socket.gethostname()
    job, restart = fields.get("job"), fields.get("restart", "")
    if job is not None and job == slurm_job() and restart.isdigit() and int(restart) < _slurm_restarts():
        return True  # only one run of a job is ever alive
    if host != me or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by someone else
        return False
    return False


def _filesystem_now(folder: Path) -> float:
    """The current time by the clock of the filesystem holding ``folder`` (on NFS, the server's):
    the modification time of a file created there, so lease ages are free of clock skew."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".clock.", suffix=".tmp")
    try:
        return os.fstat(fd).st_mtime
    finally:
        os.close(fd)
        os.unlink(tmp)


def _lease_expired(path: Path, seen: os.stat_result) -> bool:
    """Whether the lock ``path`` (as ``seen``) has not been refreshed for :data:`LEASE_SECONDS`."""
    return _filesystem_now(path.parent) - seen.st_mtime > LEASE_SECONDS


def _remove_if_unchanged(path: Path, seen: os.stat_result) -> None:
    """Remove the stale lock ``path`` if it is still the file inspected as ``seen``, under the
    exclusive ``<lock>.break`` file; a breaker left by a dead process expires with the lease."""
    breaker = path.with_name(path.name + ".break")
    try:
        os.close(os.open(breaker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        try:
            if _lease_expired(breaker, breaker.stat()):
                breaker.unlink(missing_ok=True)
        except FileNotFoundError:
            pass
        return
    try:
        now = path.stat()
        if (now.st_ino, now.st_mtime_ns) == (seen.st_ino, seen.st_mtime_ns):
            path.unlink()
    except FileNotFoundError:
        pass
    finally:
        breaker.unlink(missing_ok=True)


@contextmanager
def _heartbeat(path: Path, every: float) -> Iterator[None]:
    """Refresh ``path``'s modification time every ``every`` seconds inside the block."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            try:
                os.utime(path)
            except FileNotFoundError:  # removed as stale: the process lost its lease
                return

    thread = threading.Thread(target=beat, name=f"heartbeat {path}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def default_root() -> Path:
    """``$FOCUSLIB_RESULTS``, else the ``results/`` folder of the checkout holding focuslib."""
    env = os.environ.get("FOCUSLIB_RESULTS")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parent.parent / "results"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def digest_path(path: Path) -> Path:
    return path.with_name(path.name + DIGEST_SUFFIX)


def write_recorded(path: Path, data: bytes) -> None:
    """Write ``data`` atomically, then its sha256 into the sidecar :func:`digest_path` (also atomically).

    The old sidecar goes first: a process killed in between leaves a file without a digest,
    never a digest of another file."""
    sidecar = digest_path(path)
    sidecar.unlink(missing_ok=True)
    atomic_write_bytes(path, data)
    atomic_write_text(sidecar, json.dumps({"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}) + "\n")


def read_recorded(path: Path) -> bytes:
    """The bytes of ``path``, checked against the sha256 recorded in its sidecar.

    A file without a sidecar (written before the store recorded digests, or by a process killed
    between the two writes) is read unchecked."""
    data = path.read_bytes()
    sidecar = digest_path(path)
    if not sidecar.exists():
        return data
    try:
        recorded = json.loads(sidecar.read_text())["sha256"]
    except (ValueError, KeyError, TypeError):
        recorded = None
    if recorded != hashlib.sha256(data).hexdigest():
        raise IntegrityError(
            f"{path} does not match the sha256 recorded in {sidecar.name} when it was written: it was changed or "
            f"damaged since, and was not used. Delete {path} and {sidecar.name} to retrain, or restore the original.")
    return data


def remove_recorded(path: Path) -> None:
    """Delete a file written by :func:`write_recorded` and its sidecar."""
    path.unlink(missing_ok=True)
    digest_path(path).unlink(missing_ok=True)


def remove_stale_writes(run_dir: Path) -> None:
    """Delete the temporary files of :func:`atomic_write_bytes` that a process killed mid-write left
    for the run's own files (:data:`RUN_FILES`); call it only while holding the run's lock."""
    for name in RUN_FILES:
        for stale in run_dir.glob(f".{name}.*.tmp"):
            stale.unlink(missing_ok=True)


class ResultsStore:
    """Look up, write and read back runs keyed by the hash of their :class:`RunConfig`."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_root()

    def run_dir(self, cfg: RunConfig) -> Path:
        return self.root / cfg.profile / f"{cfg.label()}-{cfg.key()}"

    # -- the file format ---------------------------------------------------------------
    @staticmethod
    def read_config(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
        """A run folder's ``config.yaml`` (``key``, ``label``, ``config``, ``runtime``, ``earlier``);
        ``{}`` when the folder has none; a file that is not such a mapping is an IntegrityError."""
        path = Path(run_dir) / CONFIG
        if not path.exists():
            return {}
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as err:
            raise IntegrityError(f"{path} is not valid YAML ({yaml_problem(err)}); restore it, or delete "
                                 f"{path.parent} to retrain the run") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("config", {}), dict):
            raise IntegrityError(f"{path} is not a run's config.yaml; restore it, or delete {path.parent} "
                                 "to retrain the run")
        return doc

    @classmethod
    def read_run_config(cls, run_dir: str | os.PathLike[str]) -> RunConfig:
        """The :class:`RunConfig` a run folder holds."""
        doc = cls.read_config(run_dir)
        if "config" not in doc:
            raise IntegrityError(f"{Path(run_dir) / CONFIG} is missing or holds no configuration")
        return RunConfig.from_dict(doc["config"])

    # -- lookup ------------------------------------------------------------------------
    def check_config(self, cfg: RunConfig) -> None:
        """Refuse a folder whose stored configuration differs from ``cfg``."""
        path = self.run_dir(cfg) / CONFIG
        if not path.exists():
            return
        stored = self.read_config(path.parent)
        if "config" not in stored:
            raise IntegrityError(f"{path} holds no run configuration; restore it, or delete {path.parent} "
                                 "to retrain the run")
        if stored["config"] != _plain(cfg.to_dict()):
            raise StoreConflictError(
                f"{path} holds a different configuration than the run asked for "
                f"(key {cfg.key()}); refusing to mix them. Move that folder away or use another --results-dir."
            )

    def is_finished(self, cfg: RunConfig) -> bool:
        self.check_config(cfg)
        return (self.run_dir(cfg) / FINAL).exists()

    def final(self, cfg: RunConfig) -> dict[str, Any] | None:
        """The final metrics of a finished run (:meth:`read_final`), else ``None``."""
        if not self.is_finished(cfg):
            return None
        return self.read_final(self.run_dir(cfg), cfg.epochs)

    @classmethod
    def read_final(cls, run_dir: Path, epochs: int) -> dict[str, Any]:
        """``final.json`` of a finished run, checked against its ``metrics.jsonl``: a mapping, one
        metrics row per epoch, and the last row's test metrics equal to the final ones."""
        path = Path(run_dir) / FINAL
        fix = f"Delete {run_dir} to retrain the run, or restore its files."
        try:
            final = json.loads(path.read_text())
        except ValueError as err:
            raise IntegrityError(f"{path} is not valid JSON ({err}). {fix}") from None
        if not isinstance(final, dict):
            raise IntegrityError(
                f"{path} holds {type(final).__name__} {final!r:.60}, not the mapping of final metrics. {fix}"
            )
        rows = cls.read_metrics(Path(run_dir))
        if len(rows) != epochs:
            raise IntegrityError(
                f"{path.parent / METRICS} has {len(rows)} row(s) for a finished run of {epochs} epoch(s). {fix}"
            )
        last = rows[-1] if rows else {}  # a 0-epoch run (the initialised network) has no rows
        differ = sorted(k for k, v in last.items() if k.startswith("test_") and not _same(final.get(k), v))
        if differ:
            raise IntegrityError(f"{path} disagrees with the last row of {METRICS} on {', '.join(differ)}. {fix}")
        return final

    def prefix(self, cfg: RunConfig) -> RunConfig | None:
        """The longest finished run, with its checkpoint, whose configuration is ``cfg`` with
        fewer epochs, else ``None``.

        Its lr schedule, data order and seeds are those of ``cfg``'s first epochs, so ``cfg``
        can continue from its checkpoint instead of retraining them (e.g. Fig. 4's baselines
        stopped at 1, 10, ..., 60 epochs become snapshots of one training run). Whether the
        method allows it is the trainer's call (:attr:`~focuslib.methods.Method.uses_run_length`).
        """
        pattern = f"{cfg.label().rsplit('-e', 1)[0]}-e*-*/{FINAL}"
        best: RunConfig | None = None
        for final in self.root.joinpath(cfg.profile).glob(pattern):
            try:
                doc = self.read_config(final.parent)
            except (OSError, IntegrityError):
                continue  # an unreadable folder is no prefix; cfg then trains from its first epoch
            epochs = (doc.get("config") or {}).get("epochs")
            if not isinstance(epochs, int) or not 0 < epochs < cfg.epochs:
                continue
            shorter = cfg.replace(epochs=epochs)
            if (doc.get("key") == shorter.key() and (final.parent / CHECKPOINT).exists()
                    and (best is None or epochs > best.epochs)):
                best = shorter
        return best

    def metrics(self, cfg: RunConfig) -> pd.DataFrame:
        """Per-epoch metrics of one run (empty frame if none yet)."""
        return pd.DataFrame(self.read_metrics(self.run_dir(cfg)))

    @staticmethod
    def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
        path = run_dir / METRICS
        if not path.exists():
            return []
        try:
            return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        except ValueError as err:
            raise IntegrityError(f"{path} is not one JSON row per line ({err}); delete {run_dir} to retrain the run, "
                                 f"or restore the file.") from None

    # -- writing -----------------------------------------------------------------------
    @contextmanager
    def lock(self, cfg: RunConfig) -> Iterator[Path]:
        """Hold ``train.lock`` of the run while training it (see the module's docstring: safe across
        machines, a heartbeat while held); a stale lock is taken over, any other raises
        :class:`RunLockedError`. The folders it creates are removed on release if the run wrote
        nothing into them."""
        path = self.run_dir(cfg) / LOCK
        created = [d for d in (path.parent, *path.parent.parents) if not d.exists()]  # deepest first
        path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    seen, holder = path.stat(), path.read_text().strip()
                except FileNotFoundError:  # released meanwhile
                    continue
                if _holder_is_gone(holder) or (_parse_holder(holder)[0] != socket.gethostname()
                                               and _lease_expired(path, seen)):
                    _remove_if_unchanged(path, seen)
                    continue
                raise RunLockedError(
                    f"{cfg.label()} is being trained by another process ({holder or 'unknown'}; lock {path}). "
                    f"Wait for it to finish; if that process is gone, delete {path} and run again.") from None
            with os.fdopen(fd, "w") as fh:
                fh.write(lock_record())
                fh.flush()
                os.fsync(fh.fileno())
            break
        else:
            raise RunLockedError(f"could not take {path}: another process keeps taking it; run again.")
        try:
            remove_stale_writes(path.parent)
            with _heartbeat(path, HEARTBEAT_SECONDS):
                yield path
        finally:
            path.unlink(missing_ok=True)
            for folder in created:  # a run that failed before writing anything leaves no folder behind
                try:
                    folder.rmdir()
                except OSError:  # not empty: the run wrote something
                    break

    def start(self, cfg: RunConfig, runtime: dict[str, Any], *, earlier: Sequence[dict[str, Any]] = ()) -> Path:
        """Create the run folder and write ``config.yaml`` (config + runtime facts).

        ``earlier``: the runtime facts of the processes that trained the epochs this one starts
        from (its own before a resume, or the shorter run it continues), so a run trained over
        several sessions records every piece of code that made it (:meth:`processes`)."""
        self.check_config(cfg)
        run_dir = self.run_dir(cfg)
        doc = {"key": cfg.key(), "label": cfg.label(), "config": _plain(cfg.to_dict()), "runtime": _plain(runtime)}
        if earlier:
            doc["earlier"] = _plain(list(earlier))
        atomic_write_text(run_dir / CONFIG, yaml.safe_dump(doc, sort_keys=False))
        return run_dir

    def write_metrics(self, cfg: RunConfig, rows: list[dict[str, Any]]) -> None:
        text = "".join(json.dumps(_plain(r)) + "\n" for r in rows)
        atomic_write_text(self.run_dir(cfg) / METRICS, text)

    def finish(self, cfg: RunConfig, final: dict[str, Any]) -> None:
        atomic_write_text(self.run_dir(cfg) / FINAL, json.dumps(_plain(final), indent=2) + "\n")

    # -- reading back ------------------------------------------------------------------
    @staticmethod
    def processes(run_dir: Path) -> list[dict[str, Any]]:
        """The runtime facts of every process that trained the run, oldest first (a run resumed
        before ``earlier`` was recorded lists only its last process; none without ``config.yaml``)."""
        doc = ResultsStore.read_config(run_dir)
        return [*(doc.get("earlier") or []), *([doc["runtime"]] if doc.get("runtime") else [])]

    def iter_runs(self, profile: str | None = None) -> Iterator[Path]:
        pattern = f"{profile}/*/{FINAL}" if profile else f"*/*/{FINAL}"
        for final in sorted(self.root.glob(pattern)):
            yield final.parent

    def frame(self, profile: str | None = None) -> pd.DataFrame:
        """All finished runs as one DataFrame: config fields, final metrics, ``run_dir``."""
        rows = []
        for run_dir in self.iter_runs(profile):
            doc = self.read_config(run_dir)
            cfg = dict(doc["config"])
            teacher = cfg.pop("teacher", None)
            rows.append({
                **cfg,
                "teacher_key": RunConfig.from_dict(teacher).key() if teacher else None,
                "teacher_epochs": teacher["epochs"] if teacher else None,
                "teacher_model": teacher["model"] if teacher else None,
                "key": doc["key"],
                **self.read_final(run_dir, doc["config"]["epochs"]),
                "run_dir": str(run_dir),
            })
        return pd.DataFrame(rows)


def _same(a: Any, b: Any) -> bool:
    """Equal, counting two NaNs (a diverged run's metrics) as equal."""
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def _plain(obj: Any) -> Any:
    """Convert tuples and numpy/torch scalars into YAML/JSON-friendly built-ins."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, str):
        return str(obj)  # e.g. torch.__version__ is a str subclass YAML can't represent
    if hasattr(obj, "item") and callable(obj.item):
        return obj.item()
    return obj
