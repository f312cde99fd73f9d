"""Diagnostics of finished runs, computed from their stored weights.

:func:`dead_units` counts ReLU units (a channel of a convolution, a neuron of a linear layer)
whose output is zero for every training example. Such a unit no longer learns (its gradient
is zero everywhere), so a network that lost units early, e.g. under the paper's lr 0.1 on
LeNet-5, trains with less capacity. ``python -m focuslib.diagnostics RUN_DIR ...`` writes the
counts to ``diagnostics.json`` beside the run's ``final.json``, where :mod:`focuslib.report`
reads them; the weights themselves are never committed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Sequence

import torch
import yaml
from torch import Tensor, nn

from . import datasets
from .config import RunConfig
from .store import CONFIG, FINAL, WEIGHTS, atomic_write_text

DIAGNOSTICS = "diagnostics.json"


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
    cfg = RunConfig.from_dict(yaml.safe_load((run_dir / CONFIG).read_text())["config"])
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


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m focuslib.diagnostics RUN_DIR ... [--data-root DIR]``: write each run's dead-unit counts."""
    import argparse  # noqa: PLC0415

    p = argparse.ArgumentParser(prog="python -m focuslib.diagnostics", description=main.__doc__)
    p.add_argument("run_dirs", nargs="+", help="finished run folders of the results store")
    p.add_argument("--data-root", default=None)
    p.add_argument("--missing", action="store_true",
                   help="only the finished runs among RUN_DIR that have weights and no diagnostics yet")
    a = p.parse_args(argv)
    run_dirs = [Path(d) for d in a.run_dirs]
    if a.missing:
        run_dirs = [d for d in run_dirs if (d / FINAL).exists() and (d / WEIGHTS).exists() and not (d / DIAGNOSTICS).exists()]
    for run_dir in run_dirs:
        counts = diagnose(run_dir, a.data_root)["dead_units"]
        print(run_dir, ", ".join(f"{k}: {v['dead']}/{v['units']} dead" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
