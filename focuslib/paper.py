"""The paper's own numbers, typed once from its tables (the only place they live in focusbook).

Every value is a :class:`PaperNumber` that keeps the table, row and column exactly as printed in
Zhang, Sheng, Shen, *FocusNet*, Pattern Recognition 129 (2022) 108709, plus machine keys
(``method``, ``dataset``, ``model``, ``metric``) that the rest of the library uses.

>>> lookup("7", "ourloss_frskd", "cub200")
67.19
>>> lookup(3, "focusnet", "imagenet", metric="top5", model="resnet34")
91.89
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from .registry import UnknownNameError

SOURCE = "Zhang, Sheng, Shen, FocusNet, Pattern Recognition 129 (2022) 108709"

DATASETS = ("mnist", "cifar10", "imagewoof", "cifar100", "cub200", "stanford_dogs",
            "tinyimagenet", "imagenet_dogs", "imagenet")
MODELS = ("lenet5", "resnet18", "resnet34", "mobilenetv2_x0_5")
METRICS = ("top1", "top5", "params_m", "flops_g", "num_classes", "num_train", "num_val")
METHODS = ("ce", "dropmax", "focusnet", "kd", "tfkd", "one", "ddgsd", "byot", "cskd", "slasd",
           "frskd_nofeat", "frskd", "ourloss_frskd", "dereverse_kd", "teacher", "student",
           "lcls", "lcls+rent", "lcls+ratt", "lcls+ratt+rent")
TABLES = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "fig4")

FIG4_NOTE = ("Fig. 4 plots FocusNet's accuracy against poorly-trained baselines; its points are not "
             "printed as numbers. Only the two baseline accuracies stated in Sec. 4.4 are kept here.")
FIG4_BASELINE_EPOCHS: tuple[int, ...] = (1, 10, 20, 30, 40, 50, 60)
"""Epochs at which the poorly-trained ResNet-18 baselines of Fig. 4 were stopped (caption)."""
TABLE9_TEACHER_EPOCHS: dict[str, int] = {
    "cifar10": 1, "imagewoof": 30, "cifar100": 5, "cub200": 50, "stanford_dogs": 50,
    "tinyimagenet": 10, "imagenet_dogs": 10,
}
"""Epochs of the poorly-trained MobileNetV2 teachers of Table 9, no lr decay (Sec. 4.3.2)."""


@dataclass(frozen=True)
class PaperNumber:
    """One printed number: where it is in the paper (table, row, column) and what it measures."""

    table: str
    row: str
    column: str
    value: float
    unit: str
    note: str = ""
    method: str | None = None
    dataset: str | None = None
    model: str | None = None
    metric: str = "top1"

    def __post_init__(self) -> None:
        for field, value, known in (("table", self.table, TABLES), ("method", self.method, METHODS),
                                    ("dataset", self.dataset, DATASETS), ("model", self.model, MODELS),
                                    ("metric", self.metric, METRICS)):
            if value is not None and value not in known:
                raise ValueError(f"PaperNumber {field}={value!r} is not one of {', '.join(known)}")

    @property
    def source(self) -> str:
        """Citation of the printed cell, e.g. ``Table 7, row 'FRSKD [18]', column 'CUB-200'``."""
        where = "Fig. 4 (Sec. 4.4 text)" if self.table == "fig4" else f"Table {self.table}"
        return f"{where}, row '{self.row}', column '{self.column}'"


# Printed column headers of the accuracy tables -> data set keys.
_DATASET_OF = {"MNIST": "mnist", "CIFAR-10": "cifar10", "Imagewoof": "imagewoof",
               "CIFAR-100": "cifar100", "CUB-200": "cub200", "Stanford Dogs": "stanford_dogs",
               "Tiny ImageNet": "tinyimagenet", "ImageNet Dogs": "imagenet_dogs"}


def _accuracy_rows(table: str, columns: Sequence[str],
                   rows: Sequence[tuple[str, str, str, Sequence[float]]],
                   notes: dict[str, str] | None = None) -> list[PaperNumber]:
    """Top-1 % cells of a method x data set table; ``rows`` = (printed row, method, model, values)."""
    out = []
    for printed, method, model, values in rows:
        if len(values) != len(columns):
            raise ValueError(f"Table {table} row {printed!r}: {len(values)} values, {len(columns)} columns")
        for column, value in zip(columns, values):
            dataset = _DATASET_OF[column]
            arch = "lenet5" if dataset == "mnist" else model  # Table 2's caption: LeNet-5 on MNIST
            out.append(PaperNumber(table, printed, column, value, "%", (notes or {}).get(method, ""),
                                   method, dataset, arch))
    return out


def _table1() -> list[PaperNumber]:
    rows = (("1. MNIST [25]", "mnist", 10, 60_000, 10_000),
            ("2. CIFAR-10 [26]", "cifar10", 10, 50_000, 10_000),
            ("3. Imagewoof [2]", "imagewoof", 10, 9_025, 3_929),
            ("4. CIFAR-100 [26]", "cifar100", 100, 50_000, 10_000),
            ("5. ImageNet Dogs [27]", "imagenet_dogs", 118, 147_873, 5_900),
            ("6. Stanford Dogs [28]", "stanford_dogs", 120, 12_000, 8_580),
            ("7. CUB-200 [29]", "cub200", 200, 5_994, 5_794),
            ("8. Tiny ImageNet [30]", "tinyimagenet", 200, 100_000, 10_000),
            ("9. ImageNet [31]", "imagenet", 1_000, 1_281_167, 50_000))
    columns = (("N", "num_classes", "classes"), ("# Training", "num_train", "images"),
               ("# Validation", "num_val", "images"))
    return [PaperNumber("1", printed, column, float(value), unit, dataset=dataset, metric=metric)
            for printed, dataset, *values in rows
            for (column, metric, unit), value in zip(columns, values)]


def _table2() -> list[PaperNumber]:
    columns = ("MNIST", "CIFAR-10", "Imagewoof", "CIFAR-100", "CUB-200", "Stanford Dogs",
               "Tiny ImageNet", "ImageNet Dogs")
    return _accuracy_rows("2", columns, (
        ("Baseline", "ce", "resnet18", (99.31, 92.43, 84.43, 74.52, 50.29, 63.32, 59.50, 70.76)),
        ("DropMax [8]", "dropmax", "resnet18", (99.43, 93.70, 86.87, 74.59, 57.68, 64.02, 60.93, 71.34)),
        ("FocusNet (Ours)", "focusnet", "resnet18",
         (99.56, 94.86, 86.94, 78.29, 63.43, 71.05, 64.49, 73.92)),
    ))


def _imagenet_table(table: str, rows: Sequence[tuple[str, str, str, float, float, str]]) -> list[PaperNumber]:
    """Tables 3 and 8: rows (printed, method, model, top-1, top-5, note) on ImageNet."""
    return [PaperNumber(table, printed, column, value, "%", note, method, "imagenet", model, metric)
            for printed, method, model, top1, top5, note in rows
            for column, metric, value in (("Top-1", "top1", top1), ("Top-5", "top5", top5))]


def _table3() -> list[PaperNumber]:
    printed_delta = "printed with its difference to Baseline in parentheses: {}"
    return _imagenet_table("3", (
        ("Baseline", "ce", "resnet18", 69.76, 89.08, ""),
        ("FocusNet (Ours)", "focusnet", "resnet18", 70.42, 89.56, printed_delta.format("(+0.66), (+0.48)")),
        ("Baseline", "ce", "resnet34", 73.31, 91.42, ""),
        ("FocusNet (Ours)", "focusnet", "resnet34", 74.35, 91.89, printed_delta.format("(+1.04), (+0.47)")),
    ))


def _complexity(table: str, cells: Sequence[tuple[str, str | None, str | None, float, float]],
                note: str) -> list[PaperNumber]:
    """Tables 4 and 6: cells (printed column, method, model, params M, FLOPs G)."""
    return [PaperNumber(table, row, column, value, unit, note, method, None, model, metric)
            for column, method, model, params, flops in cells
            for row, metric, unit, value in (("Params (M)", "params_m", "M", params),
                                             ("FLOPs (G)", "flops_g", "G", flops))]


# Our check, not the paper's statement: torchvision's ResNet-18/34 with the 3x3 stem and a 200-class
# head have 11.27 M / 21.38 M parameters and ~4.44 / 9.28 GFLOPs at 64x64 (torch.utils.flop_counter),
# and SLA-SD's extra 4x200-way head gives 11.58 M: Tables 4 and 6 match Tiny ImageNet.
_COMPLEXITY_NOTE = ("data set and input size not stated; the counts match 200 classes at 64x64 with "
                    "the small-input stem")


def _table4() -> list[PaperNumber]:
    return _complexity("4", (("MobileNetV2", None, "mobilenetv2_x0_5", 0.94, 0.02),
                             ("ResNet-18", None, "resnet18", 11.27, 4.46),
                             ("ResNet-34", None, "resnet34", 21.38, 9.29)), _COMPLEXITY_NOTE)


def _table5() -> list[PaperNumber]:
    columns = ("CIFAR-10", "Imagewoof", "CIFAR-100", "CUB-200", "Stanford Dogs", "Tiny ImageNet",
               "ImageNet Dogs")
    student = "mobilenetv2_x0_5"
    return _accuracy_rows("5", columns, (
        ("T: ResNet-18", "teacher", "resnet18", (92.43, 84.43, 74.52, 50.29, 63.32, 59.50, 70.76)),
        ("S: MobileNetV2", "student", student, (87.74, 81.99, 69.06, 52.71, 60.52, 52.77, 52.81)),
        ("Standard KD", "kd", student, (88.20, 82.76, 71.44, 58.03, 64.73, 56.60, 64.20)),
        ("FocusNet (Ours)", "focusnet", student, (90.45, 83.56, 74.49, 64.27, 66.71, 58.96, 65.78)),
    ))


def _table6() -> list[PaperNumber]:
    r18 = "resnet18"
    return _complexity("6", (("Baseline", "ce", r18, 11.27, 4.46), ("DDGSD", "ddgsd", r18, 11.27, 4.46),
                             ("CS-KD", "cskd", r18, 11.27, 4.46), ("SLA-SD", "slasd", r18, 11.58, 4.46),
                             ("Tf-KD", "tfkd", r18, 11.27, 4.46), ("ONE", "one", r18, 11.27, 4.46),
                             ("BYOT", "byot", r18, 12.49, 4.68), ("FRSKD", "frskd", r18, 17.75, 7.62),
                             ("FocusNet (Ours)", "focusnet", r18, 11.27, 4.46)), _COMPLEXITY_NOTE)


def _table7() -> list[PaperNumber]:
    columns = ("CIFAR-100", "CUB-200", "Stanford Dogs", "Tiny ImageNet", "ImageNet Dogs")
    r18 = "resnet18"
    return _accuracy_rows("7", columns, (
        ("Baseline [1]", "ce", r18, (74.52, 50.29, 63.32, 59.50, 70.76)),
        ("Tf-KD [7]", "tfkd", r18, (76.86, 57.23, 66.55, 60.02, 71.64)),
        ("ONE [35]", "one", r18, (76.67, 54.71, 65.39, 62.33, 72.56)),
        ("DDGSD [32]", "ddgsd", r18, (76.61, 58.49, 69.00, 61.59, 71.98)),
        ("BYOT [17]", "byot", r18, (76.68, 58.66, 68.82, 63.10, 72.90)),
        ("CS-KD [33]", "cskd", r18, (77.19, 64.34, 68.91, 60.44, 72.76)),
        ("SLA-SD [34]", "slasd", r18, (77.52, 56.17, 67.30, 60.81, 72.78)),
        ("FRSKD\\F [18]", "frskd_nofeat", r18, (77.64, 62.29, 69.48, 63.84, 73.53)),
        ("FRSKD [18]", "frskd", r18, (77.71, 65.39, 70.77, 64.35, 74.31)),
        ("FocusNet (Ours)", "focusnet", r18, (78.29, 63.43, 71.05, 64.49, 73.92)),
        ("OurLoss+FRSKD", "ourloss_frskd", r18, (78.45, 67.19, 71.49, 64.92, 74.69)),
    ), notes={"frskd_nofeat": "FRSKD without its feature distillation term (printed 'FRSKD\\F')"})


def _table8() -> list[PaperNumber]:
    return _imagenet_table("8", (
        ("Baseline", "ce", "resnet18", 69.76, 89.08, ""),
        ("FRSKD", "frskd", "resnet18", 70.17, 89.78, ""),
        ("FocusNet (Ours)", "focusnet", "resnet18", 70.42, 89.56, ""),
        ("Baseline", "ce", "resnet34", 73.31, 91.42, ""),
        ("FRSKD", "frskd", "resnet34", 73.75, 92.11, ""),
        ("FocusNet (Ours)", "focusnet", "resnet34", 74.35, 91.89, ""),
    ))


def _table9() -> list[PaperNumber]:
    columns = ("CIFAR-10", "Imagewoof", "CIFAR-100", "CUB-200", "Stanford Dogs", "Tiny ImageNet",
               "ImageNet Dogs")
    r18 = "resnet18"
    return _accuracy_rows("9", columns, (
        ("T: Pt-MobileNetV2", "teacher", "mobilenetv2_x0_5",
         (46.93, 41.33, 35.65, 35.43, 37.98, 32.14, 33.29)),
        ("S: ResNet-18", "student", r18, (92.43, 84.43, 74.52, 50.29, 63.32, 59.50, 70.76)),
        ("De-reverse KD", "dereverse_kd", r18, (55.50, 51.69, 46.22, 42.89, 45.50, 38.45, 39.39)),
        ("FocusNet (Ours)", "focusnet", r18, (93.78, 86.13, 77.11, 62.34, 66.88, 62.65, 72.10)),
    ), notes={"teacher": "poorly-trained MobileNetV2 (see TABLE9_TEACHER_EPOCHS)"})


def _table10() -> list[PaperNumber]:
    # Rows in printed order; the check marks (Cross-entropy, L_cls, R_attention, R_entropy) give the key.
    # The text extraction reads row 3 as L_cls + R_entropy and row 4 as L_cls + R_attention.
    r18 = "resnet18"
    return _accuracy_rows("10", ("CUB-200", "Stanford Dogs"), (
        ("Baseline", "ce", r18, (50.29, 63.32)),
        ("Ablations", "lcls", r18, (56.82, 64.07)),
        ("Ablations", "lcls+rent", r18, (61.10, 68.76)),
        ("Ablations", "lcls+ratt", r18, (61.27, 67.21)),
        ("FocusNet (Ours)", "lcls+ratt+rent", r18, (63.43, 71.05)),
    ), notes={"ce": "checked: Cross-entropy", "lcls": "checked: L_cls",
              "lcls+rent": "checked: L_cls, R_entropy", "lcls+ratt": "checked: L_cls, R_attention",
              "lcls+ratt+rent": "checked: L_cls, R_attention, R_entropy"})


def _fig4() -> list[PaperNumber]:
    row = "most inaccurate poorly-trained baseline"
    note = "stated in the text of Sec. 4.4; " + FIG4_NOTE
    return [PaperNumber("fig4", row, column, value, "%", note, "teacher", dataset, "resnet18")
            for column, dataset, value in (("(a) CUB-200", "cub200", 1.29),
                                           ("(b) Stanford Dogs", "stanford_dogs", 1.22))]


_NUMBERS: tuple[PaperNumber, ...] = tuple(
    n for build in (_table1, _table2, _table3, _table4, _table5, _table6, _table7, _table8, _table9,
                    _table10, _fig4) for n in build())

_COLUMNS = ["table", "row", "method", "column", "dataset", "model", "metric", "value", "unit",
            "source", "note"]


def numbers() -> list[PaperNumber]:
    """Every typed number of Tables 1-10 and the two Fig. 4 values stated in the text."""
    return list(_NUMBERS)


def _table_key(name: str | int) -> str:
    """Normalise ``7``, ``"7"``, ``"Table 7"``, ``"fig4"``, ``"Fig. 4"`` to a key of :data:`TABLES`."""
    key = str(name).strip().lower().replace(" ", "").replace(".", "")
    for prefix, tag in (("figure", "fig"), ("fig", "fig"), ("table", "")):
        if key.startswith(prefix):
            key = tag + key[len(prefix):]
            break
    if key not in TABLES:
        raise UnknownNameError(f"the paper has no table {name!r}. Known: {', '.join(TABLES)} "
                               "(an int, '7', 'Table 7' or 'fig4').")
    return key


def table(name: str | int) -> pd.DataFrame:
    """One table in long form (one row per printed cell), e.g. ``table(7)`` or ``table("fig4")``."""
    key = _table_key(name)
    rows = [dict(table=n.table, row=n.row, method=n.method, column=n.column, dataset=n.dataset,
                 model=n.model, metric=n.metric, value=n.value, unit=n.unit, source=n.source,
                 note=n.note) for n in _NUMBERS if n.table == key]
    return pd.DataFrame(rows, columns=_COLUMNS)


def lookup(table: str | int, method: str | None, dataset: str | None, metric: str = "top1",
           model: str | None = None) -> float:
    """The paper's value for one cell; ``None`` leaves a key open, but the match must be unique.

    Raises :class:`KeyError` (naming what the table holds) when nothing or several cells match.
    """
    key = _table_key(table)
    wanted = dict(method=method, dataset=dataset, metric=metric, model=model)
    candidates = [n for n in _NUMBERS if n.table == key]
    hits = [n for n in candidates
            if all(v is None or getattr(n, k) == v for k, v in wanted.items())]
    if len(hits) == 1:
        return hits[0].value
    asked = ", ".join(f"{k}={v!r}" for k, v in wanted.items())
    held = "; ".join(f"{k}: {', '.join(sorted({str(getattr(n, k)) for n in candidates}))}"
                     for k in wanted)
    if not hits:
        raise UnknownNameError(f"Table {key} has no cell with {asked}. It holds {held}.")
    raise UnknownNameError(f"Table {key} has {len(hits)} cells with {asked}; pass "
                           f"{', '.join(k for k, v in wanted.items() if v is None)} to pick one. "
                           f"It holds {held}.")
