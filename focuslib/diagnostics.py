"""Diagnostics of finished runs, computed from their stored weights.

:func:`dead_units` counts ReLU units (a channel of a convolution, a neuron of a linear layer)
whose output is zero for every training example. Such a unit no longer learns (its gradient
is zero everywhere), so a network that lost units early, e.g. under the paper's lr 0.1 on
LeNet-5, trains with less capacity. ``python -m focuslib.diagnostics RUN_DIR ...`` writes the
counts to ``diagnostics.json`` beside the run's ``final.json``, where :mod:`focuslib.report`
reads them; the weights themselves are never committed.

:func:`first_steps` replays a run's first epoch step by step (bit-identical on CPU, checked
against the run's stored epoch-1 metrics) and records after every step its loss, learning
rate, gradient norm and the units inactive on that step's batch: where in the epoch a run that
did not train lost its units (``--first-steps`` writes ``first_steps.jsonl``).

:func:`replay` retrains a whole run with the code of the checkout and compares every epoch's
metrics with the stored ones (``--replay`` writes ``replay.json``): whether the committed code
makes the committed artifact, bit for bit, whatever code once made it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from . import datasets
from .config import RunConfig
from .store import CONFIG, FINAL, WEIGHTS, ResultsStore, RunLockedError, atomic_write_text

DIAGNOSTICS = "diagnostics.json"
FIRST_STEPS = "first_steps.jsonl"
REPLAY = "replay.json"
#: Beside the profiles of a results store: where ``--replay`` retrains (resumable; not committed).
REPLAY_STORE = "replaying"
#: The per-epoch metrics a replay must reproduce exactly (timings excluded).
REPLAYED = ("lr", "train_loss", "train_top1", "test_top1", "test_top5", "test_loss")
FIRST_STEP_COUNT = 100  # LeNet-5 on MNIST, lr 0.1: the runs that did not train lost (nearly) all conv2 channels by then


@torch.no_grad()
def dead_units(model: nn.Module, batches: Iterable[Tensor]) -> dict[str, dict[str, int]]:
    """Per ReLU module of ``model``: how many of its units never output a positive value on
    ``batches`` (``dead``) out of ``units`` (channels of a 4-D output, features of a 2-D one), and
    ``after``: the last convolution or linear layer defined before it (e.g. ``"Conv2d 6→16"``)."""
    peaks: dict[str, Tensor] = {}

    def hook(name: str):
        def record(_module: nn.Module, _inputs: tuple[Tensor, ...], out: Tensor) -> None:
            dims = [0, *range(2, out.dim())]
            peak = out.detach().float().amax(dim=dims)
            peaks[name] = torch.maximum(peaks[name], peak) if name in peaks else peak
        return record

    handles, follows, last = [], {}, "input"
    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            shape = (m.in_channels, m.out_channels) if isinstance(m, nn.Conv2d) else (m.in_features, m.out_features)
            last = f"{type(m).__name__} {shape[0]}→{shape[1]}"
        elif isinstance(m, nn.ReLU):
            handles.append(m.register_forward_hook(hook(name)))
            follows[name] = last
    if not handles:
        raise ValueError(f"{type(model).__name__} has no nn.ReLU module to inspect")
    was_training = model.training
    model.eval()
    try:
        for x in batches:
            model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return {name: {"dead": int((p <= 0).sum()), "units": int(p.numel()), "after": follows[name]}
            for name, p in peaks.items()}


def diagnose(run_dir: str | Path, data_root: str | None = None, batch_size: int = 1024) -> dict:
    """Dead units of a finished run's final model on its (un-augmented) training split; written
    to ``run_dir/diagnostics.json`` and returned."""
    from .loader import open_split  # noqa: PLC0415
    from .train import build, load_torch  # noqa: PLC0415

    run_dir = Path(run_dir)
    for needed in (CONFIG, FINAL, WEIGHTS):
        if not (run_dir / needed).exists():
            raise FileNotFoundError(
                f"{run_dir / needed} is missing: diagnostics need a finished run with its weights "
                f"({WEIGHTS} is not committed; re-run the configuration with python -m focuslib.train to recreate it)")
    cfg = ResultsStore.read_run_config(run_dir)
    spec = datasets.get_spec(cfg.dataset)
    state = load_torch(run_dir / WEIGHTS)
    model, _ = build(cfg, state["num_classes"], spec.in_channels, torch.device("cpu"))
    model.load_state_dict(state["model"])
    data = open_split(cfg.dataset, "train", root=data_root, limit=cfg.train_limit, device=torch.device("cpu"),
                      augment=False, dataset_kwargs=dict(cfg.dataset_kwargs), num_workers=0)
    n = data.info.num_examples
    index = [torch.arange(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]
    counts = dead_units(model, (x for x, _, _ in data.batches(index, torch.Generator().manual_seed(0))))
    out = {"dead_units": counts, "on": f"train split, {n} examples, no augmentation"}
    atomic_write_text(run_dir / DIAGNOSTICS, json.dumps(out, indent=2) + "\n")
    return out


def _retrain(run_dir: Path, data_root: str | None, epochs: int | None, on_step=None,
             scratch: Path | None = None) -> tuple[list[dict], list[dict]]:
    """Train the configuration of the run in ``run_dir`` again, in a scratch store that sees its
    frozen baseline, on the CPU with the run's thread count, for its first ``epochs`` epochs (all
    if ``None``): the replay's per-epoch metrics and the runtime facts of the processes that
    trained it (:meth:`~focuslib.store.ResultsStore.processes`). ``scratch``: a lasting store,
    where an interrupted replay resumes (and the replayed run is removed once it has finished);
    default a temporary one."""
    from .train import Runtime, run  # noqa: PLC0415

    doc = ResultsStore.read_config(run_dir)
    cfg = RunConfig.from_dict(doc["config"])
    with contextlib.nullcontext(scratch) if scratch else tempfile.TemporaryDirectory() as root:
        store = ResultsStore(root)
        # the frozen baseline, where the run read it
        if cfg.teacher is not None and not store.run_dir(cfg.teacher).exists():
            source = ResultsStore(run_dir.parent.parent).run_dir(cfg.teacher)
            if not (source / WEIGHTS).exists():  # else the trainer would retrain it into the linked, committed folder
                raise FileNotFoundError(
                    f"the baseline of {run_dir.name} has no weights ({source / WEIGHTS}); recreate them first: "
                    f"python -m focuslib.experiments with the artefact's --rows and --seeds, or train the baseline "
                    f"{cfg.teacher.label()} in a store of its own and copy its {WEIGHTS} there")
            os.makedirs(store.run_dir(cfg.teacher).parent, exist_ok=True)
            os.symlink(source.resolve(), store.run_dir(cfg.teacher))
        runtime = Runtime(device="cpu", data_root=data_root, results_dir=str(root), quiet=True,
                          stop_after_epochs=epochs, threads=(doc.get("runtime") or {}).get("threads"),
                          on_step=on_step, keep_checkpoint=False)
        run(cfg, runtime=runtime, store=store)
        metrics, processes = ResultsStore.read_metrics(store.run_dir(cfg)), store.processes(store.run_dir(cfg))
        if scratch and store.is_finished(cfg):
            shutil.rmtree(store.run_dir(cfg))
        return metrics, processes


def _stored(run_dir: Path) -> list[dict]:
    stored = ResultsStore.read_metrics(run_dir)
    if not stored:
        raise FileNotFoundError(f"{run_dir} has no per-epoch metrics to check a replay against")
    return stored


def first_steps(run_dir: str | Path, data_root: str | None = None, steps: int = FIRST_STEP_COUNT) -> list[dict]:
    """Replay the first epoch of the finished run in ``run_dir`` and record, after each of its
    first ``steps`` optimizer steps: the step (1-based), the batch loss, the learning rate, the L2
    norm of all gradients, and per ReLU layer (:func:`dead_units`) the units that output nothing
    positive on the step's batch after the update. Written to ``run_dir/first_steps.jsonl``.

    The replay (:func:`_retrain`) must reproduce the run's stored epoch-1 training loss and
    accuracy exactly, else :class:`RuntimeError` (nothing is written)."""
    from .train import Step  # noqa: PLC0415

    run_dir = Path(run_dir)
    stored = _stored(run_dir)
    rows: list[dict] = []

    def record(s: Step) -> None:
        if s.epoch > 0 or s.step >= steps:
            return
        grads = [p.grad.detach().float().norm()
                 for g in s.optimizer.param_groups for p in g["params"] if p.grad is not None]
        dead = dead_units(s.model, [s.x])
        rows.append({"step": len(rows) + 1, "loss": round(s.out.loss.item(), 6),
                     "lr": s.optimizer.param_groups[0]["lr"],
                     "grad_norm": round(torch.stack(grads).norm().item(), 6),
                     "dead": {v["after"]: v["dead"] for v in dead.values()}})

    replay = _retrain(run_dir, data_root, 1, record)[0][0]
    for key in ("train_loss", "train_top1"):
        if replay[key] != stored[0][key]:
            raise RuntimeError(f"the replay of {run_dir.name} gives epoch-1 {key} {replay[key]} against the stored "
                               f"{stored[0][key]}: not the same computation (another torch, thread count or device?)")
    atomic_write_text(run_dir / FIRST_STEPS, "".join(json.dumps(r) + "\n" for r in rows))
    return rows


def replay(run_dir: str | Path, data_root: str | None = None, scratch: str | Path | None = None) -> dict:
    """Retrain the finished run in ``run_dir`` from scratch with the checkout's code
    (:func:`_retrain`; in ``scratch``, a lasting store where an interrupted replay resumes, else a
    temporary one) and compare its metrics (:data:`REPLAYED`) with the stored ones, epoch by
    epoch. Written to ``run_dir/replay.json`` whatever the outcome: the code version(s) that
    replayed it (one per process, if it was resumed), the epochs compared, ``identical``, and the
    first difference if any."""

    run_dir = Path(run_dir)
    stored = _stored(run_dir)
    if not (run_dir / FINAL).exists():
        raise FileNotFoundError(f"{run_dir} is not a finished run (no {FINAL}); replay compares finished runs only")
    again, processes = _retrain(run_dir, data_root, None, scratch=Path(scratch) if scratch else None)
    first = next(({"epoch": a["epoch"], "metric": k, "stored": b.get(k), "replayed": a.get(k)}
                  for a, b in zip(again, stored) for k in REPLAYED if a.get(k) != b.get(k)), None)
    if first is None and len(again) != len(stored):
        first = {"epoch": min(len(again), len(stored)) + 1, "metric": "epochs", "stored": len(stored),
                 "replayed": len(again)}
    versions = list(dict.fromkeys(str(p.get("code_version")) for p in processes))
    out = {"code_version": ", ".join(versions), "epochs": len(again), "compared": list(REPLAYED),
           "identical": first is None, **({"first_difference": first} if first else {})}
    atomic_write_text(run_dir / REPLAY, json.dumps(out, indent=2) + "\n")
    return out


def _pending(run_dirs: Sequence[Path], written: str, *, weights: bool) -> list[Path]:
    """The finished runs among ``run_dirs`` without ``written`` yet (``--missing``); with
    ``weights``, only those whose weights are here."""
    return [d for d in run_dirs if (d / FINAL).exists() and not (d / written).exists()
            and (not weights or (d / WEIGHTS).exists())]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m focuslib.diagnostics RUN_DIR ... [--data-root DIR]``: write each run's dead-unit counts."""
    import argparse  # noqa: PLC0415

    p = argparse.ArgumentParser(prog="python -m focuslib.diagnostics", description=main.__doc__)
    p.add_argument("run_dirs", nargs="+", help="finished run folders of the results store")
    p.add_argument("--data-root", default=None)
    p.add_argument("--missing", action="store_true",
                   help=f"only the finished runs among RUN_DIR without this mode's file yet ({DIAGNOSTICS}, "
                        f"{FIRST_STEPS} or {REPLAY}); for {DIAGNOSTICS}, only those with their weights")
    p.add_argument("--first-steps", action="store_true",
                   help=f"instead, replay each run's first epoch into {FIRST_STEPS} (see first_steps)")
    p.add_argument("--replay", action="store_true",
                   help=f"instead, retrain each run with this checkout's code and compare every epoch, into {REPLAY} "
                        f"(retrains in <results>/{REPLAY_STORE}/, where an interrupted replay resumes)")
    a = p.parse_args(argv)
    run_dirs = [Path(d) for d in a.run_dirs]
    if a.missing:
        run_dirs = _pending(run_dirs, REPLAY if a.replay else FIRST_STEPS if a.first_steps else DIAGNOSTICS,
                            weights=not (a.replay or a.first_steps))
    if a.replay:
        differ = 0
        for run_dir in run_dirs:
            try:
                out = replay(run_dir, a.data_root, scratch=run_dir.parent.parent / REPLAY_STORE)
            except RunLockedError as err:  # another job replays it (or trains its baseline): leave it to that job
                print(f"skipped {run_dir}: {err}", file=sys.stderr, flush=True)
                continue
            differ += not out["identical"]
            print(run_dir, f"{out['epochs']} epochs replayed by {out['code_version']}:",
                  "identical" if out["identical"] else f"differs first at {out['first_difference']}", flush=True)
        return 1 if differ else 0
    if a.first_steps:
        refused = 0
        for run_dir in run_dirs:
            try:
                rows = first_steps(run_dir, a.data_root)
            except RuntimeError as err:  # a replay that differs from the run: say so, go on with the others
                print(f"{run_dir}: not replayed: {err}", file=sys.stderr, flush=True)
                refused += 1
                continue
            print(run_dir, f"{len(rows)} steps replayed; units inactive on the last batch:",
                  ", ".join(f"after {k}: {v}" for k, v in rows[-1]["dead"].items()), flush=True)
        return 1 if refused else 0
    for run_dir in run_dirs:
        counts = diagnose(run_dir, a.data_root)["dead_units"]
        print(run_dir, ", ".join(f"{k}: {v['dead']}/{v['units']} dead" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
