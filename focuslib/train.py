"""One training loop for every method (paper Sec. 4.2 recipe), with resume and a results store.

Python: ``focuslib.train.run(RunConfig(...))``. CLI::

    python -m focuslib.train --dataset mnist --model lenet5 --method focusnet --epochs 200 --seed 0

Under ``torchrun --nproc_per_node=K`` the batch of every step is split across K processes
(each rank takes an interleaved shard of the global batch) and gradients are averaged;
rank 0 alone writes to the store.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import hashlib
import io
import json
import os
import pickle
import platform
import random
import shutil
import socket
import subprocess
import sys
import time
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.distributed as dist
import yaml
from torch import Tensor, nn

from . import __version__, datasets
from .config import RunConfig, paper_schedule
from .loader import batch_indices, epoch_generator, open_split
from .methods import Method, StepOutput, create_method
from .models import create_model
from .resolve import baseline_of, resolve
from .store import (
    CHECKPOINT,
    DIGEST_SUFFIX,
    RETRAIN_DIR,
    RETRAINED,
    WEIGHTS,
    ResultsStore,
    atomic_write_text,
    read_recorded,
    remove_recorded,
    slurm_job,
    write_recorded,
    yaml_problem,
)


class CheckpointError(RuntimeError):
    """A checkpoint or weights file could not be read (truncated, corrupt, or foreign)."""


class Step(NamedTuple):
    """What :attr:`Runtime.on_step` sees after each optimizer step: the epoch and step (0-based),
    the step's input batch, the model just updated, the method's output for the batch (computed
    before the update) and the optimizer (its gradients are still set)."""

    epoch: int
    step: int
    x: Tensor
    model: nn.Module
    out: StepOutput
    optimizer: torch.optim.Optimizer


@dataclass
class Runtime:
    """How a run executes: not part of what it computes, so not part of the store key."""

    device: str = "auto"
    data_root: str | None = None
    results_dir: str | None = None
    resume: bool = True  # from the run's checkpoint, else from a shorter run of the same config
    # Keep a finished run's resume checkpoint (twice its weights: with the optimizer's momentum)
    # so a longer run of the same configuration can continue from it (ResultsStore.prefix);
    # False deletes it once the weights and final metrics are written.
    keep_checkpoint: bool = True
    quiet: bool = False
    amp: bool | None = None  # default: bf16 autocast on CUDA, off on CPU
    channels_last: bool | None = None  # default: on for CUDA
    compile: bool = False
    num_workers: int = 4
    eval_every: int = 1
    cache_teacher_logits: bool = True
    deterministic: bool | None = None  # default: on for CPU
    stop_after_epochs: int | None = None  # train this many epochs of the run now, then return unfinished
    # CPU threads while training; None: torch's default. A CPU run's numbers depend on it (the
    # order of floating-point reductions), so the smoke profile fixes 1 for outputs that match
    # on machines with any number of cores.
    threads: int | None = None
    # Several processes (torchrun): BatchNorm statistics over the global batch (SyncBatchNorm)
    # instead of each process's share of it; a different computation, recorded with the run.
    sync_batchnorm: bool = False
    # Called after every optimizer step (e.g. :func:`focuslib.diagnostics.first_steps`); it may
    # raise to end the run there, which leaves the run unfinished in its store.
    on_step: Callable[[Step], None] | None = None

    def __post_init__(self) -> None:
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1 (or None for torch's default), got {self.threads}")
        if self.device != "auto":
            try:
                torch.device(self.device)
            except RuntimeError:
                raise ValueError(f"device must be 'auto' or a torch device such as cpu, cuda, cuda:1; "
                                 f"got {self.device!r}") from None
        if self.eval_every < 1:
            raise ValueError(f"eval_every must be >= 1 (evaluate every that many epochs), got {self.eval_every}")


@dataclass
class RunResult:
    cfg: RunConfig
    run_dir: Path
    final: dict[str, Any] | None
    trained: bool  # False when the store already held the finished run

    @property
    def finished(self) -> bool:
        return self.final is not None


# -- devices, seeds, determinism ------------------------------------------------------------
def select_device(name: str) -> torch.device:
    """``auto`` picks CUDA when present; asking for CUDA without it is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} was asked for, but this machine has no usable CUDA GPU; use --device cpu")
    return device


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state() -> dict[str, Any]:
    """Every RNG's state as tensors and plain values (what a checkpoint may hold)."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {"python": {"version": version, "internal": torch.tensor(internal, dtype=torch.int64), "gauss": gauss},
             "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                       "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    py, npy = state["python"], state["numpy"]
    if isinstance(py, dict):  # else a checkpoint written before the states were plain: python's and numpy's own
        py = (py["version"], tuple(py["internal"].tolist()), py["gauss"])
        npy = (npy["kind"], npy["keys"].numpy().astype(np.uint32), npy["pos"], npy["has_gauss"], npy["cached_gaussian"])
    random.setstate(py)
    np.random.set_state(npy)
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@contextlib.contextmanager
def cpu_threads(threads: int | None) -> Iterator[None]:
    """``torch.set_num_threads(threads)`` inside the block (``None``: unchanged), restored after."""
    if threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def deterministic_algorithms(enabled: bool) -> Iterator[None]:
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(enabled)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous)


@functools.cache
def code_version() -> str:
    """focuslib's version plus the git commit of the checkout (``+dirty`` when modified).

    Read once per process: a long job (``python -m focuslib.experiments``) keeps running the code
    it imported while the checkout moves on, and its later runs must not record the new commit."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha, dirty = "", ""
    return f"{__version__}+{sha}{'.dirty' if dirty else ''}" if sha else __version__


# -- checkpoints ----------------------------------------------------------------------------
#: The numpy array constructors a checkpoint written before the RNG states were plain holds
#: (numpy's RNG state); they build arrays only, so reading such a file still runs no foreign code.
_LEGACY_GLOBALS = [np.zeros(0).__reduce__()[0], np.ndarray, np.dtype, type(np.dtype(np.uint32))]


def save_torch(path: Path, obj: Any) -> None:
    """Save tensors and plain values atomically, with their sha256 (:func:`~focuslib.store.write_recorded`)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    write_recorded(path, buf.getvalue())


def load_torch(path: Path) -> Any:
    """Read a checkpoint or weights file: its sha256 checked (:func:`~focuslib.store.read_recorded`),
    then ``torch.load(weights_only=True)``, which builds tensors and plain values only and never
    runs code from the file; a file it refuses or cannot read is a :class:`CheckpointError`."""
    data = read_recorded(path)
    try:
        with torch.serialization.safe_globals(_LEGACY_GLOBALS):
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "Weights only load failed" not in str(err):
            raise CheckpointError(f"cannot read {path}: the file is truncated or corrupt (UnpicklingError: {err}). "
                                  f"Delete it to retrain from scratch, or restore a good copy.") from None
        raise CheckpointError(
            f"refusing to load {path}: it holds objects other than tensors and plain values, which could run code "
            f"when read (it was not written by focuslib's trainer, or by a much older one). Delete it and retrain; "
            f"nothing was loaded and nothing else was changed.") from None
    except Exception as err:  # torch raises RuntimeError, EOFError, zip errors...
        raise CheckpointError(
            f"cannot read {path}: the file is truncated or corrupt ({type(err).__name__}: {err}). "
            f"Delete it to retrain from scratch, or restore a good copy; nothing else was changed."
        ) from None


# -- model assembly -------------------------------------------------------------------------
def build(cfg: RunConfig, num_classes: int, in_channels: int, device: torch.device,
          sync_batchnorm: bool = False) -> tuple[nn.Module, Method]:
    """The run's model and method on ``device``; ``sync_batchnorm`` converts the model's BatchNorm
    layers to SyncBatchNorm before the method sees the model."""
    spec = datasets.get_spec(cfg.dataset)
    small = spec.small_input if cfg.small_input is None else cfg.small_input
    model = create_model(cfg.model, num_classes, in_channels=in_channels, small_input=small, **cfg.model_kwargs)
    if sync_batchnorm:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    method = create_method(cfg.method, **cfg.method_kwargs)
    model.to(device)
    method.setup(model, num_classes)
    method.to(device)
    return model, method


def check_buildable(cfg: RunConfig) -> None:
    """Build ``cfg``'s model and method once on the CPU (RNG untouched), so a bad ``model_kwargs``
    or ``method_kwargs`` is a ValueError before anything trains or any run folder is created."""
    spec = datasets.get_spec(cfg.dataset)
    with torch.random.fork_rng(devices=[]):
        try:
            build(cfg, spec.num_classes, spec.in_channels, torch.device("cpu"))
        except TypeError as err:
            raise ValueError(f"{cfg.label()}: {err}") from None


def load_frozen(cfg: RunConfig, store: ResultsStore, runtime: Runtime, device: torch.device) -> nn.Module:
    """The finished model of ``cfg`` in eval mode with gradients off (trains it if missing)."""
    runtime = Runtime(**{**runtime.__dict__, "stop_after_epochs": None, "on_step": None})
    result = run(cfg, runtime=runtime, store=store)
    weights = result.run_dir / WEIGHTS
    if not weights.exists():  # e.g. a committed result without its weights: retrain, deterministically
        with _lock(store, cfg):
            if not weights.exists():  # another process may have retrained them since the check above
                retrain_weights(cfg, store, runtime, device)
    state = load_torch(weights)
    spec = datasets.get_spec(cfg.dataset)
    model, method = build(cfg, state["num_classes"], spec.in_channels, device)
    model.load_state_dict(state["model"])
    model.eval().requires_grad_(False)
    method.load_state_dict(state["method"])
    method.eval().requires_grad_(False)
    return _Predictor(model, method).eval()


def retrain_weights(cfg: RunConfig, store: ResultsStore, runtime: Runtime, device: torch.device) -> None:
    """Give the finished run ``cfg`` of ``store`` its missing weights (a committed run carries none) by
    training it again in the scratch store ``<store>/.retrain`` (resumable after a stop), so that its
    record stays as committed and readable meanwhile; then move the weights into its folder. A final
    accuracy other than the record's (another CPU or library) is logged: a two-stage run records the
    sha256 of the weights it used. Call it holding the run's lock."""
    scratch = ResultsStore(store.root / RETRAIN_DIR)
    _log(runtime, f"weights of {cfg.label()} missing in {store.run_dir(cfg)}; retraining them in {scratch.root}")
    result = _train(cfg, scratch, runtime, device, teachers=store)
    if _dist_info()[0] == 0:
        recorded, again = store.final(cfg) or {}, result.final or {}
        keys = ("test_top1", "test_loss")
        differ = {k: (recorded.get(k), again.get(k)) for k in keys if recorded.get(k) != again.get(k)}
        if differ:
            _log(runtime, f"warning: the retrained {cfg.label()} differs from its record (record, retrained): {differ}")
        facts = {"record": {k: recorded.get(k) for k in keys}, "retrained": {k: again.get(k) for k in keys},
                 "process": ResultsStore.processes(result.run_dir)[-1]}
        atomic_write_text(result.run_dir / RETRAINED, json.dumps(facts, indent=1) + "\n")
        for name in (RETRAINED, WEIGHTS + DIGEST_SUFFIX, WEIGHTS):  # the weights last: their presence means done
            os.replace(result.run_dir / name, store.run_dir(cfg) / name)
        shutil.rmtree(result.run_dir)
    if dist.is_initialized():
        dist.barrier()  # the other ranks load the weights once rank 0 has moved them


class _Predictor(nn.Module):
    """A frozen model whose forward is its method's test-time prediction."""

    def __init__(self, model: nn.Module, method: Method) -> None:
        super().__init__()
        self.model, self.method = model, method

    def forward(self, x: Tensor) -> Tensor:
        return self.method.predict(self.model, x)


# -- the loop -------------------------------------------------------------------------------
def run(
    cfg: RunConfig, *, runtime: Runtime | None = None, store: ResultsStore | None = None, **runtime_kw: Any
) -> RunResult:
    """Train ``cfg`` unless the store already holds it finished; return its record.

    A two-stage method first obtains its frozen baseline/teacher from the store (training it
    only if absent), so one baseline serves every table that needs it.
    """
    runtime = runtime or Runtime(**runtime_kw)
    cfg = resolve(cfg)
    store = store or ResultsStore(runtime.results_dir)
    final = store.final(cfg)
    if final is not None:
        return RunResult(cfg, store.run_dir(cfg), final, trained=False)
    check_buildable(cfg)
    device = select_device(runtime.device)
    with _lock(store, cfg), cpu_threads(runtime.threads):
        final = store.final(cfg)  # another process may have finished it meanwhile
        if final is not None:
            return RunResult(cfg, store.run_dir(cfg), final, trained=False)
        return _train(cfg, store, runtime, device)


def _lock(store: ResultsStore, cfg: RunConfig) -> contextlib.AbstractContextManager[Any]:
    """The run's store lock, held by rank 0 only (DDP ranks share one run folder)."""
    return store.lock(cfg) if _dist_info()[0] == 0 else contextlib.nullcontext()


def _train(cfg: RunConfig, store: ResultsStore, runtime: Runtime, device: torch.device, *,
           teachers: ResultsStore | None = None) -> RunResult:
    """Train ``cfg`` into ``store`` (resuming from its checkpoint there); its frozen baseline/teacher
    comes from ``teachers`` (default: ``store``)."""
    rank, world = _dist_info()
    if cfg.batch_size % world:
        raise ValueError(f"batch size {cfg.batch_size} is the global batch, split evenly over the {world} processes: "
                         f"choose a multiple of {world}")
    cpu = device.type == "cpu"
    deterministic = cpu if runtime.deterministic is None else runtime.deterministic
    amp = (device.type == "cuda") if runtime.amp is None else runtime.amp
    channels_last = (device.type == "cuda") if runtime.channels_last is None else runtime.channels_last
    spec = datasets.get_spec(cfg.dataset)
    augment = (spec.augmentation != "none") if cfg.augment is None else cfg.augment

    teachers = teachers or store
    teacher = load_frozen(cfg.teacher, teachers, runtime, device) if cfg.teacher is not None else None
    with deterministic_algorithms(deterministic):
        common = dict(root=runtime.data_root, device=device, dataset_kwargs=dict(cfg.dataset_kwargs),
                      num_workers=runtime.num_workers)
        train_data = open_split(cfg.dataset, "train", limit=cfg.train_limit, augment=augment, **common)
        test_data = open_split(cfg.dataset, "test", limit=cfg.test_limit, augment=False, **common)
        num_classes = spec.num_classes
        seed_everything(cfg.seed)
        model, method = build(cfg, num_classes, spec.in_channels, device,
                              sync_batchnorm=runtime.sync_batchnorm and world > 1)
        if channels_last:
            model.to(memory_format=torch.channels_last)
            method.to(memory_format=torch.channels_last)
        params = [p for p in list(model.parameters()) + list(method.parameters()) if p.requires_grad]
        optimizer = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
        scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, list(cfg.milestones), gamma=cfg.lr_gamma)
        step_fn = _step_module(model, method, device, world, runtime)

        run_dir = store.run_dir(cfg)
        ckpt_path = run_dir / CHECKPOINT
        start_epoch, history, continued_from = 0, [], None
        source = _resume_source(cfg, store, runtime, method)
        if source is not None:
            source_dir = store.run_dir(source)
            state = load_torch(source_dir / CHECKPOINT)
            if state.get("key") != source.key():
                raise CheckpointError(f"{source_dir / CHECKPOINT} belongs to run {state.get('key')!r}, "
                                      f"not {source.key()!r}")
            model.load_state_dict(state["model"])
            method.load_state_dict(state["method"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            set_rng_state(state["rng"])
            start_epoch = state["epoch"]
            history = store.read_metrics(source_dir)[:start_epoch]
            continued_from = state.get("continued_from") if source == cfg else source.key()
            verb = "resuming" if source == cfg else f"continuing {source.label()} ({source.key()}) as"
            _log(runtime, f"{verb} {cfg.label()} at epoch {start_epoch + 1}/{cfg.epochs}")
        if rank == 0:
            facts = {**_runtime_facts(runtime, device, amp, channels_last, deterministic, world),
                     **(_teacher_facts(teachers.run_dir(cfg.teacher)) if teacher else {}),
                     "start_epoch": start_epoch, **({"continued_from": continued_from} if continued_from else {})}
            store.start(cfg, facts, earlier=store.processes(store.run_dir(source)) if source else ())

        cached = _teacher_cache(teacher, train_data, runtime, augment, amp, device, channels_last)
        loop = TrainingLoop(cfg, model, method, step_fn, optimizer, train_data, teacher, cached, runtime, amp, device,
                            channels_last, rank, world)
        stop = cfg.epochs
        if runtime.stop_after_epochs is not None:
            stop = min(cfg.epochs, start_epoch + runtime.stop_after_epochs)
        for epoch in range(start_epoch, stop):
            t0 = time.perf_counter()
            train_stats = _train_epoch(loop, epoch)
            scheduler.step()
            row = {"epoch": epoch + 1, "lr": optimizer.param_groups[0]["lr"], **train_stats,
                   "train_seconds": round(time.perf_counter() - t0, 3)}
            if (epoch + 1) % runtime.eval_every == 0 or epoch + 1 == cfg.epochs:
                row.update(evaluate(model, method, test_data, cfg.batch_size, amp, device, channels_last))
            row["seconds"] = round(time.perf_counter() - t0, 3)
            history.append(row)
            if rank == 0:
                store.write_metrics(cfg, history)
                save_torch(ckpt_path, {
                    "key": cfg.key(), "epoch": epoch + 1, "model": model.state_dict(), "method": method.state_dict(),
                    "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "rng": rng_state(),
                    "continued_from": continued_from,
                })
            _log(runtime, _summary(cfg, row))
        if stop < cfg.epochs:
            return RunResult(cfg, run_dir, None, trained=True)
        last = history[-1] if history else {"epoch": 0, "seconds": 0.0, **evaluate(  # epochs=0: as initialised
            model, method, test_data, cfg.batch_size, amp, device, channels_last)}
        final = {**{k: v for k, v in last.items() if k not in ("seconds", "train_seconds")},
                 "total_seconds": round(sum(r["seconds"] for r in history), 3),
                 "num_train": train_data.info.num_examples, "num_test": test_data.info.num_examples,
                 "train_data": train_data.info.describe(), "test_data": test_data.info.describe()}
        if rank == 0:
            save_torch(run_dir / WEIGHTS, {"model": model.state_dict(), "method": method.state_dict(),
                                           "num_classes": num_classes})
            store.finish(cfg, final)
            if not runtime.keep_checkpoint:
                remove_recorded(ckpt_path)
    return RunResult(cfg, run_dir, final, trained=True)


def _resume_source(cfg: RunConfig, store: ResultsStore, runtime: Runtime, method: Method) -> RunConfig | None:
    """The run whose checkpoint ``cfg`` starts from: its own (resume), else a finished run of
    the same configuration with fewer epochs (:meth:`ResultsStore.prefix`), else none."""
    if not runtime.resume:
        return None
    if (store.run_dir(cfg) / CHECKPOINT).exists():
        return cfg
    return None if method.uses_run_length else store.prefix(cfg)


@dataclass
class TrainingLoop:
    """What every epoch of one run uses, resolved once by :func:`_train`."""

    cfg: RunConfig
    model: nn.Module
    method: Method
    step_fn: nn.Module  # TrainingStep, wrapped in DDP and/or compiled as the runtime asks
    optimizer: torch.optim.Optimizer
    data: Any  # the training split (focuslib.loader)
    teacher: nn.Module | None  # the frozen baseline, when its logits are not cached
    cached: Tensor | None  # the frozen baseline's logits per training image (no augmentation)
    runtime: Runtime
    amp: bool
    device: torch.device
    channels_last: bool
    rank: int
    world: int


def _train_epoch(loop: TrainingLoop, epoch: int) -> dict[str, float]:
    """One epoch of SGD; the epoch's mean training loss, accuracy and logged loss terms."""
    cfg, model, method, step_fn = loop.cfg, loop.model, loop.method, loop.step_fn
    optimizer, data = loop.optimizer, loop.data
    teacher, cached, runtime, amp, device, channels_last = (loop.teacher, loop.cached, loop.runtime, loop.amp,
                                                            loop.device, loop.channels_last)
    rank, world, method_cls = loop.rank, loop.world, type(loop.method)
    model.train()
    method.train()
    gen = epoch_generator(cfg.seed, epoch)
    batches = batch_indices(data.info.targets, cfg.batch_size // world, gen, paired=method_cls.paired_sampling,
                            rank=rank, world_size=world)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device)
    seen = 0
    term_sums: dict[str, Tensor] = {}
    bar = _progress(runtime, len(batches), f"{cfg.label()} epoch {epoch + 1}/{cfg.epochs}")
    for step, (x, y, idx) in enumerate(data.batches(batches, gen, views=method_cls.num_views)):
        if epoch < cfg.warmup_epochs:  # the epoch's scheduler.step() takes over after the warm-up
            for group in optimizer.param_groups:
                group["lr"] = cfg.lr_at(epoch, step, len(batches))
        if channels_last:
            x = _channels_last(x)
        teacher_logits = None
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            if cached is not None:
                teacher_logits = cached[idx.to(cached.device)].to(device, non_blocking=True)
            elif teacher is not None:
                with torch.no_grad():
                    teacher_logits = teacher(x)
            extra = {"idx": idx} if method_cls.needs_sample_index else {}
            out = step_fn(x, y, teacher_logits=teacher_logits, epoch=epoch, num_epochs=cfg.epochs, **extra)
        optimizer.zero_grad(set_to_none=True)
        out.loss.backward()  # under DDP, this also averages the gradients over the processes
        optimizer.step()
        method.after_step(model)
        if runtime.on_step is not None:
            runtime.on_step(Step(epoch, step, x, model, out, optimizer))
        n = out.targets.shape[0]
        loss_sum += out.loss.detach().float() * n
        correct += (out.logits.detach().argmax(1) == out.targets).sum()
        for k, v in out.terms.items():
            term_sums[k] = term_sums.get(k, torch.zeros((), device=device)) + v.detach().float() * n
        seen += n
        if bar is not None:
            bar.update(1)
            if step % 25 == 0:
                bar.set_postfix(loss=f"{loss_sum.item() / seen:.4f}", acc=f"{100 * correct.item() / seen:.2f}")
    if bar is not None:
        bar.close()
    stats = torch.stack([loss_sum, correct, torch.tensor(float(seen), device=device)] + list(term_sums.values()))
    if world > 1:
        dist.all_reduce(stats)
    total = stats[2].item()
    out_row = {"train_loss": round(stats[0].item() / total, 6), "train_top1": round(100 * stats[1].item() / total, 4)}
    for k, v in zip(term_sums, stats[3:].tolist()):
        out_row[f"train_{k}"] = round(v / total, 6)
    if not all(np.isfinite(v) for v in out_row.values()):
        out_row["diverged"] = True
    return out_row


@torch.no_grad()
def evaluate(model: nn.Module, method: Method, data, batch_size: int, amp: bool, device: torch.device,
             channels_last: bool = False) -> dict[str, float]:
    """Test top-1/top-5 accuracy (%) and loss of the method's test-time prediction."""
    model.eval()
    method.eval()
    n = data.info.num_examples
    batches = [torch.arange(i, min(i + 4 * batch_size, n)) for i in range(0, n, 4 * batch_size)]
    stats = torch.zeros(4, device=device)
    for x, y, _ in data.batches(batches, torch.Generator().manual_seed(0)):
        if channels_last:
            x = _channels_last(x)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            logits = method.predict(model, x).float()
        top5 = logits.topk(min(5, logits.shape[1]), dim=1).indices
        stats += torch.stack([
            (top5[:, 0] == y).sum().float(), (top5 == y[:, None]).any(1).sum().float(),
            nn.functional.cross_entropy(logits, y, reduction="sum"), torch.tensor(float(len(y)), device=device),
        ])
    c1, c5, loss, total = stats.tolist()
    return {"test_top1": round(100 * c1 / total, 4), "test_top5": round(100 * c5 / total, 4),
            "test_loss": round(loss / total, 6)}


@torch.no_grad()
def _teacher_cache(teacher, data, runtime: Runtime, augment: bool, amp: bool, device, channels_last) -> Tensor | None:
    """Without augmentation the teacher sees the same images every epoch: compute its logits once."""
    if teacher is None or augment or not runtime.cache_teacher_logits:
        return None
    n = data.info.num_examples
    batches = [torch.arange(i, min(i + 512, n)) for i in range(0, n, 512)]
    out = []
    for x, _, _ in data.batches(batches, torch.Generator().manual_seed(0)):
        if channels_last:
            x = _channels_last(x)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            out.append(teacher(x).float())
    return torch.cat(out)


class TrainingStep(nn.Module):
    """The model and the method as one module whose forward is one ``method.training_step``, so
    that torch's DistributedDataParallel (and ``torch.compile``) wrap everything a step trains:
    the model, the method's own modules (heads, a self-teacher) and whatever the method does
    with them between the model's layers."""

    def __init__(self, model: nn.Module, method: Method) -> None:
        super().__init__()
        self.model, self.method = model, method

    def forward(self, x: Tensor | tuple[Tensor, ...], y: Tensor, teacher_logits: Tensor | None = None,
                epoch: int = 0, num_epochs: int = 1, **extra: Tensor) -> StepOutput:
        """One ``method.training_step``; ``extra`` holds what some methods ask for (``idx``: the
        batch's sample indices, :attr:`~focuslib.methods.base.Method.needs_sample_index`)."""
        return self.method.training_step(self.model, x, y, teacher_logits=teacher_logits, epoch=epoch,
                                         num_epochs=num_epochs, **extra)


def _step_module(model: nn.Module, method: Method, device: torch.device, world: int, runtime: Runtime) -> nn.Module:
    """The training step to call: under several processes wrapped in DistributedDataParallel
    (gradients averaged in buckets during the backward pass; buffers such as BatchNorm statistics
    broadcast from rank 0 each step; ``find_unused_parameters`` because some methods leave a
    parameter out of a step), compiled when asked."""
    step: nn.Module = TrainingStep(model, method)
    if world > 1:
        step = nn.parallel.DistributedDataParallel(step, device_ids=[device.index] if device.type == "cuda" else None,
                                                   find_unused_parameters=True)
    return torch.compile(step) if runtime.compile else step


def _channels_last(x):
    if isinstance(x, tuple):
        return tuple(v.contiguous(memory_format=torch.channels_last) for v in x)
    return x.contiguous(memory_format=torch.channels_last)


def _dist_info() -> tuple[int, int]:
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _runtime_facts(runtime: Runtime, device, amp, channels_last, deterministic, world) -> dict[str, Any]:
    return {
        "code_version": code_version(), "torch": torch.__version__, "python": platform.python_version(),
        "device": str(device),
        "device_name": (torch.cuda.get_device_name(device) if device.type == "cuda"
                        else platform.processor() or platform.machine()),
        "world_size": world, **({"sync_batchnorm": True} if runtime.sync_batchnorm and world > 1 else {}),
        "amp_bf16": amp, "channels_last": channels_last, "compile": runtime.compile,
        "deterministic": deterministic, "threads": torch.get_num_threads(), "eval_every": runtime.eval_every,
        # A CPU run's numbers depend on the CPU's float kernels (the same run gave other numbers on an
        # AVX-512 AMD machine than on an earlier one), so its record names the CPU and torch's kernel set.
        "cpu": _cpu_name(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        # Where and when this process started, and its SLURM job (focuslib.launch): which job trained what.
        "host": socket.gethostname(), "started": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        **({"slurm_job": slurm_job()} if slurm_job() else {}),
    }


def _teacher_facts(run_dir: Path) -> dict[str, Any]:
    """What a two-stage run's record says of its baseline's weights: their sha256, so that it names
    the exact network it was trained against, and, where they were trained again
    (:func:`retrain_weights`: a committed baseline carries no weights), the record's and the
    retrain's final metrics and the retraining process, since another CPU, thread count or device
    can give a baseline other than the one its record describes."""
    retrained = run_dir / RETRAINED
    return {"teacher_weights_sha256": hashlib.sha256((run_dir / WEIGHTS).read_bytes()).hexdigest(),
            **({"teacher_retrained": json.loads(retrained.read_text())} if retrained.exists() else {})}


def _cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _progress(runtime: Runtime, total: int, desc: str):
    if runtime.quiet or _dist_info()[0] != 0 or not sys.stderr.isatty():
        return None  # logs and notebooks get the one summary line per epoch instead
    from tqdm.auto import tqdm  # noqa: PLC0415

    return tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True)


def _summary(cfg: RunConfig, row: dict[str, Any]) -> str:
    test = f" test top1 {row['test_top1']:.2f}%" if "test_top1" in row else ""
    return (f"{cfg.label()} epoch {row['epoch']}/{cfg.epochs}: loss {row['train_loss']:.4f} "
            f"train top1 {row['train_top1']:.2f}%{test} lr {row['lr']:.4g} ({row['seconds']:.1f}s)")


def _log(runtime: Runtime, message: str) -> None:
    if not runtime.quiet and _dist_info()[0] == 0:
        print(message, file=sys.stderr, flush=True)


# -- CLI: one flag per RunConfig field -----------------------------------------------------
#: Help of the :class:`RunConfig` fields on the command line; ``teacher`` has flags of its own.
FIELD_HELP: dict[str, str] = {
    "dataset": "data set name (focuslib.datasets)",
    "model": "architecture name (focuslib.models)",
    "method": "training method name (focuslib.methods)",
    "seed": "seed of torch, numpy and the data order",
    "batch_size": "examples per step (all ranks together)",
    "lr": "learning rate (SGD)",
    "momentum": "SGD momentum",
    "weight_decay": "SGD weight decay",
    "lr_gamma": "lr factor at each milestone",
    "epochs": "training epochs (default: the paper's schedule of the data set; 0: the initialised network)",
    "milestones": "comma-separated epochs at which lr is multiplied by lr_gamma (default: the paper's, in "
                  "the paper's proportions of --epochs; '' for none)",
    "warmup_epochs": "raise lr linearly, step by step, over this many epochs (the paper uses none)",
    "method_kwargs": "the method's hyper-parameters, e.g. alpha=1,beta=1,detach_d=true",
    "model_kwargs": "the architecture's options, e.g. width_mult=0.5",
    "dataset_kwargs": "the data set's options, e.g. variant=official",
    "small_input": "CIFAR-style stem for small images (default: the data set's)",
    "augment": "the data set's training augmentation (default: the data set's)",
    "train_limit": "keep the first N training examples (smoke runs only)",
    "test_limit": "keep the first N test examples (smoke runs only)",
    "profile": "the results store's folder the run is filed under",
}
#: Fields whose command-line default is "the paper's schedule of the data set" (:func:`paper_schedule`).
SCHEDULE_FIELDS = ("epochs", "milestones")


def key_values(text: str) -> dict[str, Any]:
    """Parse ``a=1,b=x`` into a dict with YAML-typed values (an argparse type)."""
    out = {}
    for item in filter(None, text.split(",")):
        if "=" not in item:
            raise argparse.ArgumentTypeError(f"expected key=value, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = yaml.safe_load(v)
        except yaml.YAMLError as err:
            raise argparse.ArgumentTypeError(f"{k.strip()}={v}: not a YAML value ({yaml_problem(err)})") from None
    return out


def epoch_list(text: str) -> tuple[int, ...]:
    """Parse ``100,150`` into epochs, ``''`` into none (an argparse type)."""
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated epochs such as 100,150 (or '' for none), "
                                         f"got {text!r}") from None


def _flag_options(annotation: Any, default: Any) -> dict[str, Any]:
    """argparse options of a field of type ``annotation``."""
    optional = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    kind = next(a for a in typing.get_args(annotation) if a is not type(None)) if optional else annotation
    if kind is bool:
        return {"action": argparse.BooleanOptionalAction, "default": default}
    if typing.get_origin(kind) is tuple:
        return {"type": epoch_list, "default": default}
    if typing.get_origin(kind) is Mapping:
        return {"type": key_values, "default": {}}
    return {"type": kind, "default": default}


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per :class:`RunConfig` field (``--batch-size`` for ``batch_size``), typed and
    defaulted by the field itself; ``--epochs``/``--milestones`` default to the paper's schedule."""
    hints = typing.get_type_hints(RunConfig)
    group = parser.add_argument_group("run configuration", "the fields of focuslib.config.RunConfig")
    for f in dataclasses.fields(RunConfig):
        if f.name == "teacher":
            continue
        default = None if f.name in SCHEDULE_FIELDS else f.default
        options = _flag_options(hints[f.name], default)
        group.add_argument(f"--{f.name.replace('_', '-')}", help=FIELD_HELP.get(f.name), **options)


def config_from_flags(a: argparse.Namespace, schedule: tuple[int, tuple[int, ...]]) -> RunConfig:
    """The :class:`RunConfig` of :func:`add_config_flags`' flags; ``schedule``: the (epochs,
    milestones) a flag left unset takes (the data set's paper schedule)."""
    values = {f.name: getattr(a, f.name) for f in dataclasses.fields(RunConfig) if f.name != "teacher"}
    for name, fallback in zip(SCHEDULE_FIELDS, schedule, strict=True):
        if values[name] is None:
            values[name] = fallback
    return RunConfig(**values)


class _HelpWithDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a flag's default unless it is None (whose meaning the help text gives)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return action.help if action.default is None else super()._get_help_string(action)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m focuslib.train", description=__doc__.split("\n\n")[0],
                                formatter_class=_HelpWithDefaults)
    add_config_flags(p)
    p.add_argument("--teacher-model", help="architecture of the baseline/teacher (default: --model)")
    p.add_argument("--teacher-epochs", type=int, help="epochs of the baseline/teacher, trained at constant lr if set")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    p.add_argument("--data-root", default=os.environ.get("FOCUSLIB_DATA"))
    p.add_argument("--results-dir", default=None, help="default: $FOCUSLIB_RESULTS or ./results of the checkout")
    p.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                   help="continue from the run's last checkpoint, else from a finished shorter run of the same "
                        "configuration; --no-resume ignores both and starts over")
    p.add_argument("--no-keep-checkpoint", action="store_true",
                   help="delete the run's resume checkpoint once it has finished (its weights stay)")
    p.add_argument("--eval-every", type=int, default=1)
    p.add_argument("--num-workers", type=int, default=4)
    p.add_argument("--compile", action="store_true", help="torch.compile the training step")
    p.add_argument("--sync-batchnorm", action="store_true",
                   help="under torchrun: BatchNorm statistics over the global batch (SyncBatchNorm)")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads while training (default: torch's); a CPU run's numbers depend on it")
    p.add_argument("--no-amp", action="store_true", help="disable bf16 autocast on CUDA")
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


def config_from_args(a: argparse.Namespace) -> RunConfig:
    cfg = config_from_flags(a, paper_schedule(datasets.get_spec(a.dataset).schedule, a.epochs))
    if a.teacher_model is not None or a.teacher_epochs is not None:
        teacher = baseline_of(cfg).replace(model=a.teacher_model or cfg.model)
        if a.teacher_epochs is not None:
            teacher = teacher.replace(epochs=a.teacher_epochs, milestones=())
        cfg = cfg.replace(teacher=teacher)
    return resolve(cfg)


def main(argv: Sequence[str] | None = None) -> int:
    a = parse_args(argv)
    try:
        cfg = config_from_args(a)
        check_buildable(cfg)
        runtime = Runtime(device=a.device, data_root=a.data_root, results_dir=a.results_dir, resume=a.resume,
                          quiet=a.quiet, amp=False if a.no_amp else None, compile=a.compile,
                          num_workers=a.num_workers, eval_every=a.eval_every, threads=a.threads,
                          keep_checkpoint=not a.no_keep_checkpoint, sync_batchnorm=a.sync_batchnorm)
    except (KeyError, ValueError, TypeError) as err:  # TypeError: a bad method/model keyword
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        result = run(cfg, runtime=runtime)
    except (CheckpointError, RuntimeError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if _dist_info()[0] == 0:
        print(json.dumps({"run_dir": str(result.run_dir), "trained": result.trained, **(result.final or {})}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
