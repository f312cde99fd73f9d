"""What an artefact still needs, before anything starts: its runs, their state in the store, and
the cost of the rest (``python -m focuslib.experiments TABLE --plan``).

Training FLOPs of one run = (forward FLOPs of one training step per image x 3, for the forward
and the backward pass) x training images x epochs left, plus the frozen baseline's forward for a
two-stage method: every epoch when the images are augmented, once when they are not (the trainer
then caches its logits). Forward FLOPs are counted by torch's FLOP counter
(:mod:`focuslib.complexity`: 2 per multiply-accumulate; batch norm, activations and the
optimiser are not counted). Evaluation passes are left out (a few percent). GPU-hours divide the
FLOPs by a sustained rate: measured on a named card by ``benchmarks/gpu_check.py`` where its
JSON is given, else :data:`ASSUMED_RATE`, stated as an assumption wherever it is shown.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from . import datasets
from .config import RunConfig
from .store import ResultsStore


@dataclass(frozen=True)
class Rate:
    """A sustained training rate in FLOP/s, and where it comes from."""

    flops_per_second: float
    source: str
    measured: bool


#: Without a measurement: 1e14 FLOP/s (100 TFLOP/s), about a tenth of an H100's dense bf16 peak,
#: what small-image ResNets typically sustain. An assumption, never a measurement.
ASSUMED_RATE = Rate(1e14, "assumed 100 TFLOP/s sustained (about 10% of an H100's bf16 peak); "
                          "measure with benchmarks/gpu_check.py", measured=False)


def measured_rate(gpu_check_json: str | Path) -> Rate:
    """The rate of ``ce`` in bf16 measured by ``benchmarks/gpu_check.py`` (its JSON file)."""
    try:
        doc = json.loads(Path(gpu_check_json).read_text())
        best = max((r for r in doc["results"] if r["method"] == "ce" and r["ok"]), key=lambda r: r["images_per_s"],
                   default=None)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"cannot read the GPU check {gpu_check_json} ({type(err).__name__}: {err}); give the JSON "
                         "file benchmarks/gpu_check.py wrote") from None
    if best is None:
        raise ValueError(f"{gpu_check_json} holds no successful ce measurement")
    return Rate(best["images_per_s"] * best["train_flops_per_image"], f"measured on {doc['device_name']} "
                f"({best['mode']}, {best['images_per_s']:,.0f} img/s ce)", measured=True)


@cache
def _flops_per_image(
    model: str, method: str, hparams: str, dataset: str, small_input: bool | None
) -> tuple[float, float]:
    """(training-step forward FLOPs, plain forward FLOPs) per image of ``model`` under ``method``."""
    from .complexity import count_flops, training_step_flops  # noqa: PLC0415
    from .methods import create_method  # noqa: PLC0415
    from .models import create_model  # noqa: PLC0415

    spec = datasets.get_spec(dataset)
    small = spec.small_input if small_input is None else small_input
    size = (spec.in_channels, spec.image_size, spec.image_size)
    net = create_model(model, spec.num_classes, in_channels=spec.in_channels, small_input=small)
    step = create_method(method, **json.loads(hparams))
    step.setup(net, spec.num_classes)
    return training_step_flops(net, step, size, spec.num_classes), float(count_flops(net, size))


def training_flops(cfg: RunConfig, epochs: int | None = None) -> float:
    """Training FLOPs of ``epochs`` epochs of ``cfg`` (default: all of them); see the module's docstring."""
    epochs = cfg.epochs if epochs is None else epochs
    spec = datasets.get_spec(cfg.dataset)
    images = min(spec.train_size, cfg.train_limit or spec.train_size)
    step, _ = _flops_per_image(cfg.model, cfg.method, json.dumps(dict(cfg.method_kwargs), sort_keys=True),
                               cfg.dataset, cfg.small_input)
    total = 3 * step * images * epochs
    if cfg.teacher is not None and epochs > 0:
        t = cfg.teacher
        _, forward = _flops_per_image(t.model, "ce", "{}", t.dataset, t.small_input)
        augmented = spec.augmentation != "none" if cfg.augment is None else cfg.augment
        total += forward * images * (epochs if augmented else 1)
    return total


def _state(store: ResultsStore, cfg: RunConfig) -> tuple[str, int]:
    """(state, epochs done) of ``cfg`` in ``store``."""
    if store.final(cfg) is not None:
        return "finished", cfg.epochs
    done = len(store.read_metrics(store.run_dir(cfg)))
    return ("partly trained", done) if done else ("missing", 0)


def with_baselines(configs: Iterable[RunConfig]) -> list[RunConfig]:
    """``configs`` with the frozen baselines they need, each run once, a baseline before its users."""
    out: dict[str, RunConfig] = {}
    for cfg in configs:
        chain = []
        while cfg is not None:
            chain.append(cfg)
            cfg = cfg.teacher
        for c in reversed(chain):
            out.setdefault(c.key(), c)
    return list(out.values())


def plan_frame(configs: Sequence[RunConfig], store: ResultsStore, rate: Rate = ASSUMED_RATE) -> pd.DataFrame:
    """One row per run the artefact needs (baselines included): its state in the store and the
    cost of what is left of it, in training FLOPs and GPU-hours at ``rate``."""
    rows = []
    for cfg in with_baselines(configs):
        state, done = _state(store, cfg)
        left = training_flops(cfg, cfg.epochs - done) if state != "finished" else 0.0
        rows.append({"run": cfg.label(), "data set": cfg.dataset, "profile": cfg.profile, "key": cfg.key(),
                     "state": state,
                     "epochs done": done, "epochs": cfg.epochs, "PFLOPs left": left / 1e15,
                     "GPU-hours left": left / rate.flops_per_second / 3600})
    return pd.DataFrame(rows)


def describe_plan(frame: pd.DataFrame, rate: Rate = ASSUMED_RATE) -> str:
    """A few lines: how many runs, how many finished / partly trained / missing, the cost left."""
    counts = frame["state"].value_counts()
    return (f"{len(frame)} run(s): {counts.get('finished', 0)} finished, {counts.get('partly trained', 0)} partly "
            f"trained, {counts.get('missing', 0)} missing. Left: {frame['PFLOPs left'].sum():,.1f} PFLOPs of "
            f"training, {frame['GPU-hours left'].sum():,.1f} GPU-hours at {rate.source}.")


def per_dataset(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`plan_frame` summed per data set, for a page's cells not run yet: runs not finished
    (baselines included), of all the artefact's runs there, and the GPU-hours they take."""
    left = frame.assign(todo=frame["state"] != "finished")
    out = left.groupby("data set", sort=False).agg(runs=("run", "size"), left=("todo", "sum"),
                                                  gpu_hours=("GPU-hours left", "sum")).reset_index()
    return out[out["left"] > 0].rename(columns={"runs": "runs (baselines included)", "left": "not finished",
                                               "gpu_hours": "GPU-hours left"}).reset_index(drop=True)
