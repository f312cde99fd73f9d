"""Model complexity (paper Tables 4 and 6): parameter counts and FLOPs.

**FLOPs convention.** :func:`count_flops` uses ``torch.utils.flop_counter.FlopCounterMode``,
which counts only matrix products and convolutions and charges **2 FLOPs per multiply-accumulate**
(a conv output of ``k`` weights costs ``2k``; biases, batch norm, activations, pooling and residual
additions cost nothing). So ``count_macs = count_flops / 2`` exactly. thop, the counter many papers
use, reports MACs and calls them "FLOPs" (and adds a little for batch norm and pooling), so a
thop "FLOPs" figure corresponds to :func:`count_macs`, not :func:`count_flops`.

**Which convention the paper used.** FocusNet's Table 4 gives ResNet-18 / ResNet-34 4.46 G / 9.29 G.
The small-input ResNets with 200 classes at 64x64 (Tiny ImageNet) cost 4.444 G / 9.275 G FLOPs
(2.222 G / 4.638 G MACs); at 32x32 a quarter of that. So the paper's numbers are FLOPs = 2 x MACs
at 64x64. The paper is higher by 0.4 % / 0.16 %, which fits a counter that also charges the
element-wise operations torch's counter leaves out: adding thop's batch-norm charge (2 per
output) to the MACs and doubling gives 4.453 G / 9.292 G. For MobileNetV2 see
:mod:`focuslib.models.mobilenet`: its 0.02 G is not reachable with the paper's stride change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import pandas as pd
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .models import create_model
from .models.mobilenet import PAPER_UNIT_STRIDE_ROWS


def count_parameters(*modules: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of one or several modules (e.g. a backbone plus a method's heads).

    A parameter shared between the modules is counted once.
    """
    if not modules:
        raise ValueError("count_parameters needs at least one module")
    unique = {id(p): p for m in modules for p in m.parameters() if p.requires_grad or not trainable_only}
    return sum(p.numel() for p in unique.values())


def count_call_flops(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
    """FLOPs (2 per multiply-accumulate) of calling ``fn(*args, **kwargs)`` once, without grad.

    For anything that is not a plain ``model(x)``: a head on feature maps, a method's step.
    """
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        fn(*args, **kwargs)
    return int(counter.get_total_flops())


def count_flops(model: nn.Module, input_size: Sequence[int]) -> int:
    """FLOPs of ``model`` on one input of shape ``input_size`` (no batch dimension, e.g. ``(3, 64, 64)``).

    Runs in eval mode (batch statistics would not change the count) and restores each
    sub-module's mode afterwards. The input is zeros on the device/dtype of the parameters.
    """
    if not input_size or any(int(s) < 1 for s in input_size):
        raise ValueError(f"input_size must be the positive shape of one input without the batch "
                         f"dimension, e.g. (3, 64, 64); got {tuple(input_size)!r}")
    first = next(model.parameters(), None)
    x = torch.zeros(1, *map(int, input_size), device=first.device if first is not None else None,
                    dtype=first.dtype if first is not None else None)
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        return count_call_flops(model, x)
    finally:
        for m, training in modes.items():
            m.training = training


def count_macs(model: nn.Module, input_size: Sequence[int]) -> int:
    """Multiply-accumulates (thop's "FLOPs" for convs and linear layers): :func:`count_flops` / 2."""
    return count_flops(model, input_size) // 2


@dataclass(frozen=True)
class ModelSpec:
    """One model setting to measure: a registry name plus the arguments of :func:`create_model`."""

    label: str
    name: str
    num_classes: int
    image_size: int
    in_channels: int = 3
    small_input: bool = False
    kwargs: Mapping[str, Any] = field(default_factory=dict)


def complexity_table(specs: Sequence[ModelSpec]) -> pd.DataFrame:
    """One row per spec: label, name, image_size, params, macs, flops, params_M, GMACs, GFLOPs.

    The models are built on PyTorch's ``meta`` device (shapes without storage): the counts depend
    only on shapes, so they are exact and take no time or memory.
    """
    rows = []
    for spec in specs:
        with torch.device("meta"):
            model = create_model(spec.name, spec.num_classes, spec.in_channels, spec.small_input,
                                 **spec.kwargs)
        flops = count_flops(model, (spec.in_channels, spec.image_size, spec.image_size))
        params = count_parameters(model)
        rows.append(dict(label=spec.label, name=spec.name, image_size=spec.image_size, params=params,
                         macs=flops // 2, flops=flops, params_M=params / 1e6, GMACs=flops / 2e9,
                         GFLOPs=flops / 1e9))
    return pd.DataFrame(rows)


#: Table 4's columns as printed, with their registry names.
TABLE4_MODELS: tuple[tuple[str, str], ...] = (
    ("MobileNetV2", "mobilenetv2_x0_5"), ("ResNet-18", "resnet18"), ("ResNet-34", "resnet34"))


def _paper_values(paper: pd.DataFrame | None, metric: str) -> dict[str, float]:
    """``{model name: value}`` of one metric of a :func:`focuslib.paper.table` frame."""
    if paper is None:
        return {}
    missing = {"model", "metric", "value"} - set(paper.columns)
    if missing:
        raise ValueError(f"the paper's table needs columns model, metric and value (as "
                         f"focuslib.paper.table(4) returns); missing: {', '.join(sorted(missing))}")
    cells = paper[paper["metric"] == metric]
    return dict(zip(cells["model"], cells["value"].astype(float)))


def table4_frame(paper: pd.DataFrame | None, num_classes: int = 200, image_size: int = 64,
                 small_input: bool = True) -> pd.DataFrame:
    """Table 4, ours beside the paper's (``paper`` = ``focuslib.paper.table(4)``; ``None``: ours only).

    Columns: ``Params (M)`` ours and paper and their difference; ``FLOPs (G)`` ours and paper,
    their difference and ratio; our ``MACs (G)``. Rows in the paper's column order. Missing
    paper values are NaN.
    """
    paper_params, paper_flops = _paper_values(paper, "params_m"), _paper_values(paper, "flops_g")
    ours = complexity_table([ModelSpec(label, name, num_classes, image_size, small_input=small_input)
                             for label, name in TABLE4_MODELS])
    params_paper = pd.Series([paper_params.get(n, math.nan) for n in ours["name"]])
    flops_paper = pd.Series([paper_flops.get(n, math.nan) for n in ours["name"]])
    frame = pd.DataFrame({
        "model": ours["label"],
        "Params (M) ours": ours["params_M"],
        "Params (M) paper": params_paper,
        "Params diff (M)": ours["params_M"] - params_paper,
        "FLOPs (G) ours": ours["GFLOPs"],
        "FLOPs (G) paper": flops_paper,
        "FLOPs diff (G)": ours["GFLOPs"] - flops_paper,
        "FLOPs ours/paper": ours["GFLOPs"] / flops_paper,
        "MACs (G) ours": ours["GMACs"],
    })
    return frame.set_index("model")


#: MobileNetV2 stride settings compared in :func:`flops_by_setting` (rows of Sandler et al. Table 2).
MOBILENET_READINGS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("unmodified (down-sampling 32)", ()),
    ("stride 1 in the stem only (16)", (1,)),
    ("stride 1 in stem + c24 stage, rows (1, 3) (8)", (1, 3)),
    (f"stride 1 in stem + c32 stage, rows {PAPER_UNIT_STRIDE_ROWS} (8, default)", PAPER_UNIT_STRIDE_ROWS),
)


def flops_by_setting(paper: pd.DataFrame | None, num_classes: int = 200,
                     image_sizes: Sequence[int] = (32, 64)) -> pd.DataFrame:
    """FLOPs and MACs of Table 4's models per input size and stride setting, beside the paper's FLOPs.

    Shows which input size and which convention (FLOPs or MACs) reproduce the printed numbers:
    the small-input ResNets, and MobileNetV2 under each reading of "stride 1 in the first and
    fourth convolutional layers" (:data:`MOBILENET_READINGS`).
    """
    paper_flops = _paper_values(paper, "flops_g")
    settings = [(label, name, "small-input stem (8)", {}) for label, name in TABLE4_MODELS
                if name != "mobilenetv2_x0_5"]
    settings += [("MobileNetV2", "mobilenetv2_x0_5", reading, {"unit_stride_rows": rows})
                 for reading, rows in MOBILENET_READINGS]
    grid = [(setting, size) for setting in settings for size in image_sizes]
    table = complexity_table([ModelSpec(label, name, num_classes, size, small_input=True, kwargs=kw)
                              for (label, name, _, kw), size in grid])
    table.insert(1, "setting (down-sampling)", [reading for (_, _, reading, _), _size in grid])
    table["paper FLOPs (G)"] = [paper_flops.get(n, math.nan) for n in table["name"]]
    table = table.set_index(["label", "setting (down-sampling)", "image_size"])
    return table[["GFLOPs", "GMACs", "paper FLOPs (G)"]]
