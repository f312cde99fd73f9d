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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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


#: Table 6's columns as printed, with our method names.
TABLE6_METHODS: tuple[tuple[str, str], ...] = (
    ("Baseline", "ce"), ("DDGSD", "ddgsd"), ("CS-KD", "cskd"), ("SLA-SD", "slasd"), ("Tf-KD", "tfkd_self"),
    ("ONE", "one"), ("BYOT", "byot"), ("FRSKD", "frskd"), ("FocusNet (Ours)", "focusnet"))

#: How Table 6 evidently counts each method (an inference from the printed numbers; the paper
#: does not say). ``deployed``: the classifier alone; ``training``: the classifier plus every
#: training-time module, FLOPs of one training forward per image; ``joint head``: the backbone
#: with SLA-SD's 4N-way head in place of its N-way head; ``heads``: BYOT's classifier plus its
#: per-stage heads, without the adaptation layers of its feature hints.
TABLE6_CONVENTION: dict[str, str] = {
    "ce": "deployed", "ddgsd": "deployed", "cskd": "deployed", "tfkd_self": "deployed", "one": "deployed",
    "focusnet": "deployed", "slasd": "joint head", "byot": "heads", "frskd": "training"}


def training_step_flops(model: nn.Module, method: nn.Module, input_size: Sequence[int], num_classes: int,
                        n: int = 2) -> float:
    """Forward FLOPs of one ``method.training_step`` per labelled image (extra views, rotations
    and same-class partners included; a pre-trained teacher's forward excluded)."""
    x, y = torch.zeros(n, *input_size), torch.arange(n) % num_classes
    if method.paired_sampling:
        x, y = torch.cat([x, x]), torch.cat([y, y])
    views = tuple(x for _ in range(method.num_views)) if method.num_views > 1 else x
    teacher = torch.zeros(len(y), num_classes) if method.needs_teacher else None
    extra = {"idx": torch.arange(len(y))} if method.needs_sample_index else {}  # e.g. focusnet_prev's cache
    return count_call_flops(method.training_step, model, views, y, teacher_logits=teacher, **extra) / n


def _as_paper_counts(name: str, model: nn.Module, method: nn.Module, deployed_flops: float,
                     training_flops: float) -> tuple[int, float]:
    """Parameters and FLOPs of ``name`` counted by :data:`TABLE6_CONVENTION`."""
    convention = TABLE6_CONVENTION[name]
    if convention == "deployed":
        return count_parameters(model), deployed_flops
    if convention == "joint head":
        return count_parameters(model) - count_parameters(model.fc) + count_parameters(method), deployed_flops
    if convention == "heads":
        return count_parameters(model, method.heads), training_flops
    return count_parameters(model, method), training_flops


def table6_frame(paper: pd.DataFrame | None, num_classes: int = 200, image_size: int = 64) -> pd.DataFrame:
    """Table 6 (small-input ResNet-18 + each method's modules), ours beside the paper's.

    ``paper`` = ``focuslib.paper.table(6)`` (``None``: ours only). Columns: parameters (M)
    deployed, training-time and counted as the paper evidently counts (:data:`TABLE6_CONVENTION`)
    beside the paper's; FLOPs (G) likewise, per image.
    """
    from .methods import create_method  # noqa: PLC0415  (methods import models; keep this module light)

    params_paper = {} if paper is None else dict(zip(paper[paper["metric"] == "params_m"]["column"],
                                                     paper[paper["metric"] == "params_m"]["value"]))
    flops_paper = {} if paper is None else dict(zip(paper[paper["metric"] == "flops_g"]["column"],
                                                    paper[paper["metric"] == "flops_g"]["value"]))
    size = (3, image_size, image_size)
    rows = []
    for label, name in TABLE6_METHODS:
        model = create_model("resnet18", num_classes, small_input=True)
        method = create_method(name)
        method.setup(model, num_classes)
        deployed, training = count_flops(model, size), training_step_flops(model, method, size, num_classes)
        params_as_paper, flops_as_paper = _as_paper_counts(name, model, method, deployed, training)
        rows.append({
            "method": label, "counted as": TABLE6_CONVENTION[name],
            "Params deployed (M)": count_parameters(model) / 1e6,
            "Params training (M)": count_parameters(model, method) / 1e6,
            "Params as paper (M)": params_as_paper / 1e6,
            "Params paper (M)": params_paper.get(label, math.nan),
            "FLOPs deployed (G)": deployed / 1e9,
            "FLOPs training / image (G)": training / 1e9,
            "FLOPs as paper (G)": flops_as_paper / 1e9,
            "FLOPs paper (G)": flops_paper.get(label, math.nan),
        })
    frame = pd.DataFrame(rows).set_index("method")
    frame["Params diff (M)"] = frame["Params as paper (M)"] - frame["Params paper (M)"]
    frame["FLOPs diff (G)"] = frame["FLOPs as paper (G)"] - frame["FLOPs paper (G)"]
    return frame


def describe_table4(table: pd.DataFrame) -> str:
    """How :func:`table4_frame`'s numbers compare with the paper, as Markdown generated from them."""
    rel = 100 * (table["FLOPs (G) ours"] / table["FLOPs (G) paper"] - 1)
    params_ok = (table["Params diff (M)"].abs() < 0.005).all()
    mobile = table.loc["MobileNetV2"]
    lines = [
        "* **Parameters** " + ("agree with the paper to its two decimals for all three networks." if params_ok
                               else "differ: see the table."),
        f"* **ResNet FLOPs**: ours differ from the paper's by {rel['ResNet-18']:+.2f} % (ResNet-18) and "
        f"{rel['ResNet-34']:+.2f} % (ResNet-34). torch's counter charges only convolutions and matrix products "
        "(2 FLOPs per multiply-accumulate); a counter that also charges element-wise operations (batch norm, "
        "activations, additions) gives slightly more.",
        f"* **MobileNetV2 FLOPs**: ours are {mobile['FLOPs ours/paper']:.1f}x the paper's with the stride change "
        "the paper describes (Sec. 4.2). The table above shows which other settings (the unmodified network, a "
        "smaller input, MACs instead of FLOPs) come near the paper's value; which one the authors measured cannot "
        "be told from the paper. We train the network the text describes and report its true cost.",
    ]
    return "\n".join(lines)
