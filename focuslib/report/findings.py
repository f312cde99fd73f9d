"""The paper's claims, one row each, with the evidence the results store holds and a verdict.

Every claim names the table or figure of the paper it rests on (its abstract, Sec. 4 and
conclusion). A claim is made of *parts*: one comparison on one data set and model (e.g. "FocusNet
beats its own baseline, MNIST, LeNet-5"), judged from the full-protocol runs of the store only;
smoke runs never give a verdict. :func:`claim_parts` gives the numbers of every part,
:func:`findings_table` one row per claim, :func:`findings_html` the table the book shows.

The verdict rule is :func:`part_verdict`'s docstring, written once and shown on the findings page
(:func:`verdict_rule`).
"""

from __future__ import annotations

import html
import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import datasets, paper
from ..experiments import load_profile, plan, run_plan
from .decision import OUTCOMES, covering, interval_facts, outcomes
from .evidence import at_chance, chance
from .tables import (
    PAPER_ROW,
    PROFILE_LABEL,
    fig4_frame,
    fmt,
    fmt_interval,
    full_protocol_plan,
    paired_gains,
    paper_rows,
    t_interval,
)

#: The only verdicts a claim can get.
VERDICTS = ("reproduced", "not reproduced", "undecided", "mixed", "untested")
#: What training a model at the paper's full protocol takes: LeNet-5 on MNIST trained on this
#: book's CPU machine; every ResNet/MobileNetV2 row of the paper needs a GPU.
ACCELERATOR = {"lenet5": "CPU"}
#: Table 7's self-distillation rows (our row keys; "tfkd_self" is the paper's Tf-KD row).
SELF_DISTILLATION = ("tfkd_self", "one", "ddgsd", "byot", "cskd", "slasd", "frskd_nofeat", "frskd")
#: Protocols of ours besides the paper's (profiles, e.g. ``params/reduced.yaml``) whose comparisons
#: the findings show beside a claim, labelled, judged by the same rule, but never setting its verdict.
OTHER_PROTOCOLS = ("reduced",)
#: Table 10's claims, as (row, the row it must beat): L_cls beats the baseline; R_attention and
#: R_entropy each add to L_cls alone.
ABLATION_PAIRS = (("lcls", "ce"), ("lcls+ratt", "lcls"), ("lcls+rent", "lcls"))


@dataclass(frozen=True)
class Claim:
    """One claim of the paper: ``pairs`` of (row, row it beats) on ``datasets``, judged by ``kind``
    (``gain``: paired gain; ``trend``: Fig. 4's rank correlation; ``near_chance``: Fig. 4's least
    accurate baseline branch; ``complexity``: counted parameters and FLOPs). ``addition``: data
    sets our plan adds that the paper's artefact lacks (their row says "our addition")."""

    key: str
    text: str
    artefact: str
    page: str
    kind: str = "gain"
    pairs: tuple[tuple[str, str], ...] = (("focusnet", "ce"),)
    datasets: tuple[str, ...] = ()
    addition: bool = False
    paper_table: str = field(default="")

    @property
    def table(self) -> str:
        return self.paper_table or self.page.replace("table", "")


def _paper_datasets(table: str | int) -> tuple[str, ...]:
    ref = paper.table(table)
    return tuple(dict.fromkeys(d for d in ref["dataset"] if d is not None))


def _plan_datasets(page: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.dataset for c in plan(page, {"profile": "paper"})))


def claims() -> list[Claim]:
    """The paper's claims in the order the findings page lists them. Data sets come from
    :mod:`focuslib.paper` (the paper's) and from the full-protocol plans (our additions)."""
    t2 = _paper_datasets(2)
    out = [Claim(f"table2-{d}", "FocusNet beats its own baseline (cross-entropy)", "Table 2", "table2", datasets=(d,))
           for d in t2]
    out += [
        Claim("table2-dropmax", "FocusNet beats DropMax", "Table 2", "table2", pairs=(("focusnet", "dropmax"),),
              datasets=t2),
        Claim("table3", "FocusNet beats its baseline on ImageNet (ResNet-18 and ResNet-34)", "Table 3", "table3",
              datasets=_paper_datasets(3)),
        Claim("table5", "ResNet-18 guiding MobileNetV2: FocusNet beats standard knowledge distillation", "Table 5",
              "table5", pairs=(("focusnet", "kd"),), datasets=_paper_datasets(5)),
        Claim("table7-sd",
              "FocusNet beats all seven self-distillation methods (CIFAR-100, Stanford Dogs, Tiny ImageNet)",
              "Table 7", "table7", pairs=tuple(("focusnet", m) for m in SELF_DISTILLATION),
              datasets=("cifar100", "stanford_dogs", "tinyimagenet")),
        Claim("table7-ourloss", "The focus-picking loss improves FRSKD (OurLoss+FRSKD beats FRSKD)", "Table 7",
              "table7", pairs=(("ourloss_frskd", "frskd"),), datasets=_paper_datasets(7)),
        Claim("table8", "FocusNet beats FRSKD on ImageNet (top-1)", "Table 8", "table8", pairs=(("focusnet", "frskd"),),
              datasets=_paper_datasets(8)),
        Claim("table9", "A poorly trained MobileNetV2 as baseline branch: FocusNet still beats the ResNet-18 baseline",
              "Table 9", "table9", pairs=(("focusnet", "student"),), datasets=_paper_datasets(9)),
    ]
    fig4_paper = _paper_datasets("fig4")
    for page, claim, extra in (
        ("table10", Claim("table10", "Each term of the loss adds accuracy (L_cls beats the baseline; R_att and R_ent "
                          "each add to L_cls)", "Table 10", "table10", pairs=ABLATION_PAIRS,
                          datasets=_paper_datasets(10)), {}),
        ("fig4", Claim("fig4-trend", "FocusNet's accuracy rises with its baseline branch's accuracy", "Fig. 4", "fig4",
                       kind="trend", pairs=(("focusnet_on_teacher", "teacher"),), datasets=fig4_paper), {}),
        ("fig4", Claim("fig4-chance",
                       "Even on a baseline branch near chance, FocusNet beats the fully trained baseline",
                       "Fig. 4", "fig4", kind="near_chance", pairs=(("focusnet_on_teacher", "ce"),),
                       datasets=fig4_paper), {}),
    ):
        out.append(claim)
        added = tuple(d for d in _plan_datasets(page) if d not in claim.datasets)
        if added:
            out.append(Claim(claim.key + "-ours", claim.text, claim.artefact, claim.page, claim.kind, claim.pairs,
                             added, addition=True, **extra))
    out.append(Claim("complexity", "FocusNet costs nothing extra at test time: the baseline's parameters and FLOPs",
                     "Tables 4, 6", "table6", kind="complexity", pairs=(("focusnet", "ce"),), paper_table="6"))
    return out


def part_verdict(low: float, high: float, paper_gain: float, n: int) -> str:
    """**How a verdict is reached.** Only full-protocol runs count (the paper's recipe, committed to
    the results store); smoke runs never give a verdict. For each comparison of a claim (a row
    against the row it should beat, on one data set and model) we take, for every seed where both
    runs finished and trained (a final accuracy above 1.5x chance), the gain of the row over the
    other row *of the same seed*, and the 95 % Student-t interval of its mean over those seeds (as
    pre-registered for MNIST):

    - **reproduced**: the interval lies above 0 (a gain is shown) and does not exclude the paper's gain;
    - **mixed**: a gain is shown, but the interval lies below the paper's gain (smaller than claimed);
    - **not reproduced**: no gain is shown, and the interval excludes the paper's gain (it lies below
      it) or shows a loss (it lies below 0; the only test where the paper prints no gain);
    - **undecided**: no gain is shown, but the interval still holds both 0 and the paper's gain (or 0,
      where the paper prints no gain): more seeds could go either way;
    - **untested**: fewer than 2 such seeds (what the comparison needs is listed).

    The *reading* beside each interval is the pre-registered outcome (a gain is shown, a loss is
    shown, the paper's gain is excluded, or undecided at n seeds).

    Fig. 4's trend is reproduced when Kendall's τ between the stopped baselines' mean accuracy and
    FocusNet's (runs that trained) is positive with p < 0.05 over at least 3 stops, else not
    reproduced. Its near-chance claim is tested only where the least trained baseline branch is
    near chance (at most 1.5x chance), as in the paper. The complexity claim is reproduced when the
    network FocusNet keeps at test time has the baseline's parameters and FLOPs by our exact count,
    and our parameter count matches the paper's.

    A claim with several comparisons (data sets, models, rows) takes the verdict its tested
    comparisons share, *mixed* when they differ, and *untested* when none is tested; the table
    says how many were tested.

    A comparison under a protocol of ours that is not the paper's (the *reduced protocol*: CIFAR-10
    with ResNet-20 for 30 epochs on one CPU, pre-registered) is judged by the same rule against the
    paper's gain and shown under the claim's verdict with its label, but never sets the claim's
    verdict: the paper's protocol was not run there.
    """
    if n < 2 or pd.isna(low):
        return "untested"
    facts = interval_facts(low, high, paper_gain)
    if facts.gain:
        return "mixed" if facts.below_paper else "reproduced"
    return "not reproduced" if facts.below_paper or facts.loss else "undecided"


def verdict_rule() -> str:
    """The verdict rule as Markdown (:func:`part_verdict`'s docstring), for the findings page."""
    return inspect.getdoc(part_verdict)


def reading(low: float, high: float, paper_gain: float, n: int) -> str:
    """The pre-registered reading of an interval: ``a gain is shown``, ``a loss is shown``,
    ``the paper's gain is excluded`` or ``undecided at n seeds``."""
    if n < 2 or pd.isna(low):
        return "no interval"
    shown = outcomes(low, high, paper_gain)  # the rule, as report.decision applies it
    first = next((o for o in (OUTCOMES[1], OUTCOMES[2], OUTCOMES[0]) if o in shown), None)  # gain, loss, excluded
    return first or f"undecided at {n} seeds"


def claim_verdict(verdicts: Sequence[str]) -> str:
    """The verdict of a claim from those of its comparisons (:func:`part_verdict`)."""
    tested = {v for v in verdicts if v != "untested"}
    if not tested:
        return "untested"
    return tested.pop() if len(tested) == 1 else "mixed"


def _paper_value(ref: pd.DataFrame, row: str, dataset: str, model: str) -> float:
    hit = ref[(ref["method"] == PAPER_ROW.get(row, row)) & (ref["dataset"] == dataset) & (ref["model"] == model)]
    return float(hit["value"].iloc[0]) if len(hit) else np.nan


def _paper_model(ref: pd.DataFrame, row: str, dataset: str) -> str | None:
    """The model of the paper's number for ``row`` on ``dataset`` (its first, where it has several)."""
    hit = ref[(ref["method"] == PAPER_ROW.get(row, row)) & (ref["dataset"] == dataset)]
    return hit["model"].iloc[0] if len(hit) else None


def _needs(cells: pd.DataFrame, dataset: str, model: str, rows: Sequence[str], data_root: str | None) -> str:
    """What an untested comparison needs, without its data set's name: the missing full-protocol
    runs of ``rows`` (and of the baseline branches they are trained on), the data, the accelerator."""
    mine = cells[(cells["dataset"] == dataset) & (cells["model"].isin([model]) | (cells["row"] == "teacher"))
                 & cells["row"].isin([*rows, "teacher"])]
    missing = mine[mine["test_top1"].isna()] if "test_top1" in mine else mine
    seeds = len(set(missing["seed"]))
    data = ("" if datasets.is_available(dataset, root=data_root)
            else "; the data was not found where the book was built (--data-root or $FOCUSLIB_DATA)")
    return (f"{len(missing)} runs ({', '.join(dict.fromkeys(missing['row']))} × {seeds} seeds), "
            f"{ACCELERATOR.get(model, 'GPU')}{data}")


def _gain_part(claim: Claim, runs: pd.DataFrame, cells: pd.DataFrame, ref: pd.DataFrame, a: str, b: str,
               dataset: str, model: str, data_root: str | None, profile: str = "paper") -> dict:
    """One comparison of ``claim``: ``a`` against ``b`` on ``dataset`` and ``model`` from the finished
    ``runs`` of ``profile``. Under another protocol than the paper's, the paper's numbers are those
    of its own model for the data set (never compared: the part only states them). Where a
    pre-registered analysis judges the comparison, its ``stage`` for ``a`` (an interim reading at n
    of 15 seeds, or the decision)."""
    here = runs[(runs["dataset"] == dataset) & (runs["model"] == model)]
    pg = (paired_gains(here, a, b) if {a, b} <= set(here["row"])
          else pd.DataFrame(columns=[a, b, "gain", "seed", "both trained"]))
    ok = pg[pg["both trained"].astype(bool)]
    n = len(ok)
    low, high = t_interval(ok["gain"]) if n else (np.nan, np.nan)
    paper_model = model if profile == "paper" else _paper_model(ref, a, dataset)
    pa, pb = _paper_value(ref, a, dataset, paper_model), _paper_value(ref, b, dataset, paper_model)
    paper_gain = round(pa - pb, 2) if pd.notna(pa) and pd.notna(pb) else np.nan
    verdict = part_verdict(low, high, paper_gain, n)
    prereg = covering(a, dataset, profile)
    return {
        "claim": claim.key, "profile": profile, "row": a, "against": b, "dataset": dataset, "model": model, "n": n,
        "stage": prereg.only(a).progress(here) if prereg and b == prereg.baseline and n else "",
        "did not train": len(pg) - n,
        "ours": fmt(ok[a].mean(), ok[a].std(ddof=1), n).split(" (n=")[0] if n else "—",
        "theirs": fmt(ok[b].mean(), ok[b].std(ddof=1), n).split(" (n=")[0] if n else "—",
        "gain": ok["gain"].mean() if n else np.nan, "gain std": ok["gain"].std(ddof=1) if n > 1 else np.nan,
        "low": low, "high": high, "paper": pa, "paper against": pb, "paper gain": paper_gain,
        "reading": reading(low, high, paper_gain, n), "verdict": verdict,
        "needs": "" if verdict != "untested" or profile != "paper" else (
            _needs(cells, dataset, model, [r for pair in claim.pairs for r in pair], data_root)),
    }


def _fig4_parts(claim: Claim, runs: pd.DataFrame, cells: pd.DataFrame, dataset: str, model: str,
                data_root: str | None) -> dict:
    from scipy.stats import kendalltau  # noqa: PLC0415

    here = runs[(runs["dataset"] == dataset) & (runs["model"] == model)]
    has_series = here["row"].isin(["teacher", "focusnet_on_teacher"]).any() if len(here) else False
    frame = fig4_frame(here) if has_series else pd.DataFrame(columns=["series", "baseline epochs"])
    base = frame[frame["row"] == "teacher"].set_index("baseline epochs") if len(frame) else frame
    focus = frame[frame["row"] == "focusnet_on_teacher"].set_index("baseline epochs") if len(frame) else frame
    stops = sorted(set(base.index) & set(focus.index)) if len(frame) else []
    row = {"claim": claim.key, "profile": "paper", "row": claim.pairs[0][0], "against": claim.pairs[0][1],
           "dataset": dataset,
           "model": model, "paper": np.nan, "paper against": np.nan, "paper gain": np.nan}
    if claim.kind == "trend":
        n_stops = len(stops)
        tau = p = np.nan
        if n_stops >= 3:
            tau, p = kendalltau(base.loc[stops, "mean"], focus.loc[stops, "mean of runs that trained"])
        verdict = "untested" if n_stops < 3 else ("reproduced" if tau > 0 and p < 0.05 else "not reproduced")
        failed = int(focus["did not train"].sum()) if len(focus) else 0
        seeds = int(focus["n"].min()) if len(focus) else 0
        return {**row, "n": seeds, "did not train": failed, "stops": n_stops, "tau": tau, "p": p,
                "ours": "" if not n_stops else f"{focus.loc[stops, 'mean of runs that trained'].min():.2f} to "
                f"{focus.loc[stops, 'mean of runs that trained'].max():.2f}",
                "theirs": "" if not n_stops else
                f"{base.loc[stops, 'mean'].min():.2f} to {base.loc[stops, 'mean'].max():.2f}",
                "gain": np.nan, "gain std": np.nan, "low": np.nan, "high": np.nan,
                "reading": "no trend measured" if n_stops < 3 else
                ("a rising trend" if verdict == "reproduced" else "no significant rising trend"),
                "verdict": verdict,
                "needs": _needs(cells, dataset, model, ("ce", "teacher", "focusnet_on_teacher"), data_root)
                if verdict == "untested" else ""}
    # near_chance: FocusNet on the least trained baseline branch against the fully trained baseline
    first = stops[0] if stops else np.nan
    on_first = here[(here["row"] == "focusnet_on_teacher") & (here["x"] == first)].assign(row="on_least")
    full = here[(here["row"] == "ce") & (here["x"] != first)]
    no_paper = pd.DataFrame(columns=["method", "dataset", "model", "value"])
    part = _gain_part(claim, pd.concat([on_first, full]), cells, no_paper, "on_least", "ce", dataset, model, data_root)
    least = base.loc[first, "mean"] if stops else np.nan
    part.update(row=claim.pairs[0][0], stops=len(stops), least_baseline=least, least_stop=first)
    if stops and not at_chance(least, dataset):
        part["verdict"] = "untested"
        part["needs"] = (f"a baseline branch near chance: ours after {int(first)} epoch(s) reaches {least:.2f}% "
                         f"(chance {chance(dataset):.2f}%), so the paper's case is not tested here")
    elif part["verdict"] == "untested" and not stops:
        part["needs"] = _needs(cells, dataset, model, ("ce", "teacher", "focusnet_on_teacher"), data_root)
    return part


def _complexity_part(claim: Claim) -> dict:
    from ..complexity import count_flops, count_parameters  # noqa: PLC0415
    from ..methods import create_method  # noqa: PLC0415
    from ..models import create_model  # noqa: PLC0415

    counts = {}
    for name in ("ce", "focusnet"):  # the classifier each keeps at test time (Table 6's setting)
        model = create_model("resnet18", 200, small_input=True)
        create_method(name).setup(model, 200)
        counts[name] = (count_parameters(model) / 1e6, count_flops(model, (3, 64, 64)) / 1e9)
    ref = paper.table(6).set_index(["method", "metric"])["value"]
    p_params, p_flops = ref[("focusnet", "params_m")], ref[("focusnet", "flops_g")]
    same = counts["focusnet"] == counts["ce"]
    params_match = abs(counts["focusnet"][0] - p_params) < 0.005
    return {"claim": claim.key, "profile": "paper", "row": "focusnet", "against": "ce", "dataset": "—",
            "model": "resnet18",
            "n": 0, "did not train": 0, "ours": f"{counts['focusnet'][0]:.2f} M, {counts['focusnet'][1]:.2f} GFLOPs",
            "theirs": f"{counts['ce'][0]:.2f} M, {counts['ce'][1]:.2f} GFLOPs",
            "gain": counts["focusnet"][0] - counts["ce"][0], "gain std": np.nan, "low": np.nan, "high": np.nan,
            "paper": p_params, "paper against": ref[("ce", "params_m")], "paper gain": np.nan,
            "paper flops": p_flops, "same as baseline": same, "params match paper": params_match,
            "reading": "exact count", "verdict": "reproduced" if same and params_match else "not reproduced",
            "needs": ""}


def _cells(page: str, results_dir: str | None, profile: str = "paper") -> pd.DataFrame:
    """Every cell of ``page``'s plan under ``profile`` (the full protocol: every seed the store holds)
    with its final metrics where the store holds them (never training): the plan names the runs, the
    store's keys find them. Empty where ``profile`` has no plan for ``page``."""
    if profile == "paper":
        cells = full_protocol_plan(page, results_dir)
    elif page in load_profile(profile).get("notebooks", {}):
        cells = plan(page, {"profile": profile})
    else:
        return pd.DataFrame(columns=["row", "dataset", "model", "seed", "test_top1"])
    return run_plan(cells, results_dir=results_dir, train=False)


def _other_protocol_parts(claim: Claim, results_dir: str | None, data_root: str | None,
                          cache: dict[tuple[str, str], pd.DataFrame]) -> list[dict]:
    """The comparisons of ``claim`` under :data:`OTHER_PROTOCOLS`, where such a plan has both rows of
    a pair on one of its data sets."""
    parts = []
    for profile in OTHER_PROTOCOLS:
        key = (claim.page, profile)
        if key not in cache:
            cache[key] = _cells(claim.page, results_dir, profile)
        cells = cache[key]
        finished = cells.dropna(subset=["test_top1"]) if "test_top1" in cells else cells.iloc[0:0]
        for dataset in claim.datasets:
            here = cells[cells["dataset"] == dataset]
            for model in dict.fromkeys(here["model"]):
                rows = set(here.loc[here["model"] == model, "row"])
                parts += [_gain_part(claim, finished, cells, paper_rows(claim.table), a, b, dataset, model, data_root,
                                     profile) for a, b in claim.pairs if {a, b} <= rows]
    return parts


def claim_parts(results_dir: str | None = None, data_root: str | None = None,
                claim_list: Sequence[Claim] | None = None) -> pd.DataFrame:
    """One row per comparison of every claim: its numbers (``n`` seeds that trained, paired
    ``gain`` with its 95 % interval ``low``-``high``, the paper's values and gain), the
    pre-registered ``reading`` and the ``verdict`` (:func:`part_verdict`); ``needs`` for an
    untested one."""
    rows = []
    cache: dict[str, pd.DataFrame] = {}
    other: dict[tuple[str, str], pd.DataFrame] = {}
    for claim in claim_list or claims():
        if claim.kind == "complexity":
            rows.append(_complexity_part(claim))
            continue
        if claim.page not in cache:
            cache[claim.page] = _cells(claim.page, results_dir)
        cells = cache[claim.page]
        finished = cells.dropna(subset=["test_top1"]) if "test_top1" in cells else cells.iloc[0:0]
        ref = paper_rows(claim.table) if claim.kind == "gain" else None
        for dataset in claim.datasets:
            rows_here = (cells["dataset"] == dataset) & (cells["row"] == claim.pairs[0][0])
            models = list(dict.fromkeys(cells.loc[rows_here, "model"]))
            for model in models:
                if claim.kind == "gain":
                    for a, b in claim.pairs:
                        rows.append(_gain_part(claim, finished, cells, ref, a, b, dataset, model, data_root))
                else:
                    rows.append(_fig4_parts(claim, finished, cells, dataset, model, data_root))
        if claim.kind == "gain":
            rows += _other_protocol_parts(claim, results_dir, data_root, other)
    return pd.DataFrame(rows)


#: How the evidence names our rows.
ROW_LABEL = {"focusnet": "FocusNet", "ce": "baseline", "dropmax": "DropMax", "kd": "KD", "student": "student baseline",
             "tfkd_self": "Tf-KD", "one": "ONE", "ddgsd": "DDGSD", "byot": "BYOT", "cskd": "CS-KD", "slasd": "SLA-SD",
             "frskd_nofeat": "FRSKD\\F", "frskd": "FRSKD", "ourloss_frskd": "OurLoss+FRSKD", "lcls": "L_cls",
             "lcls+ratt": "L_cls+R_att", "lcls+rent": "L_cls+R_ent", "lcls+ratt+rent": "FocusNet",
             "focusnet_on_teacher": "FocusNet on the least trained baseline branch"}


def _signed(v: float) -> str:
    return f"{v:+.2f}".replace("-", "−")


def _interval(low: float, high: float) -> str:
    """:func:`~focuslib.report.tables.fmt_interval` with typographic minus signs, as :func:`_signed`."""
    return fmt_interval(low, high).replace("-", "−")


def _evidence(part: pd.Series) -> str:
    where = f"{part['dataset']} ({part['model']})" if part["dataset"] != "—" else part["model"]
    stops = part.get("stops", np.nan)
    if part["verdict"] == "untested" and not part["n"] and not (pd.notna(stops) and stops > 0):
        return f"{where}: not run yet"
    if part["reading"] == "exact count":
        return (f"exact count (no training), {where}, 200 classes at 64×64: FocusNet {part['ours']}, "
                f"baseline {part['theirs']}")
    if "tau" in part and pd.notna(part.get("tau")):
        return (f"{where}, full protocol, {int(part['stops'])} stops, ≥{int(part['n'])} seeds each: FocusNet "
                f"{part['ours']} on baselines at {part['theirs']}; Kendall τ = {_signed(part['tau'])}, "
                f"p = {part['p']:.2f}" + (f"; {int(part['did not train'])} run(s) did not train"
                                            if part["did not train"] else ""))
    protocol = PROFILE_LABEL.get(part.get("profile", "paper"), part.get("profile"))
    text = (f"{where}, {protocol}, n={int(part['n'])} seeds: {ROW_LABEL.get(part['row'], part['row'])} "
            f"{part['ours']} vs {ROW_LABEL.get(part['against'], part['against'])} {part['theirs']}")
    if part["n"] >= 2:
        text += (f"; paired gain {_signed(part['gain'])} ± {part['gain std']:.2f}, 95% CI "
                 f"{_interval(part['low'], part['high'])} ({part['reading']})")
    if part["did not train"]:
        text += f"; {int(part['did not train'])} seed(s) did not train (left out)"
    if pd.notna(part.get("least_baseline", np.nan)):
        untrained = " (0 epochs: the untrained network, our addition)" if part.get("least_stop") == 0 else ""
        text += f"; least trained baseline branch{untrained} {part['least_baseline']:.2f}%"
    return text


def _paper_text(part: pd.Series) -> str:
    if part["reading"] == "exact count":
        return (f"FocusNet {part['paper']:.2f} M, {part['paper flops']:.2f} GFLOPs; "
                f"baseline {part['paper against']:.2f} M")
    if pd.isna(part["paper gain"]):
        return "no printed number" if part["claim"].startswith("fig4") else "not in the paper (our addition)"
    return f"{part['paper']:.2f} vs {part['paper against']:.2f}: {_signed(part['paper gain'])}"


def findings_table(results_dir: str | None = None, data_root: str | None = None,
             parts: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per claim (:func:`claims`): the claim, the artefact and page it rests on, its data
    sets, the evidence of its tested comparisons beside the paper's numbers, the verdict
    (:func:`claim_verdict`) with the ``stage`` of a pre-registered analysis that judges it (an
    interim reading until its seeds are in), how many comparisons were tested, and what the
    untested ones need.
    For a claim of one comparison, its numbers too (``n``, ``gain``, ``low``, ``high``,
    ``paper gain``)."""
    parts = claim_parts(results_dir, data_root) if parts is None else parts
    rows = []
    for claim in claims():
        ours = parts[parts["claim"] == claim.key]
        if ours.empty:
            continue
        paper_protocol = ours["profile"] == "paper"
        mine, other = ours[paper_protocol], ours[~paper_protocol & (ours["n"] > 0)]
        tested = mine[mine["verdict"] != "untested"]
        shown = mine[(mine["verdict"] != "untested") | (mine["n"] > 0) | (mine.get("stops", 0) > 0)]
        untested = mine[mine["verdict"] == "untested"]
        data_sets = list(dict.fromkeys(mine["dataset"]))
        by_need: dict[str, list[str]] = {}
        for r in untested.itertuples():
            if r.needs:
                by_need.setdefault(r.needs, []).append(r.dataset)
        needs = "; ".join(f"{', '.join(dict.fromkeys(ds))}: {need}" for need, ds in by_need.items())
        one = mine.iloc[0] if len(mine) == 1 else None
        rows.append({
            "claim": claim.text, "artefact": claim.artefact, "page": claim.page,
            "data set": ", ".join(data_sets) + (" (our addition)" if claim.addition else ""),
            "evidence": "\n".join([*(_evidence(p) for _, p in shown.iterrows())] or ["no full-protocol run yet"]
                                  + [_evidence(p) for _, p in other.iterrows()]),
            "paper": "\n".join(dict.fromkeys(
                _paper_text(p) for _, p in (shown if len(shown) else mine.head(1)).iterrows()))
            if claim.kind != "gain" or len(shown) else _paper_range(mine),
            "verdict": claim_verdict(list(mine["verdict"])),
            "other protocols": "; ".join(f"{PROFILE_LABEL.get(p['profile'], p['profile'])}: {p['verdict']}"
                                         + (f" ({p['stage']})" if _stage(p) else "")
                                         for _, p in other.iterrows()),
            "stage": "; ".join(dict.fromkeys(_stage(p) for _, p in mine.iterrows() if _stage(p))),
            "tested": f"{len(tested)} of {len(mine)}", "needs": needs, "key": claim.key, "addition": claim.addition,
            "n": one["n"] if one is not None else np.nan, "gain": one["gain"] if one is not None else np.nan,
            "low": one["low"] if one is not None else np.nan, "high": one["high"] if one is not None else np.nan,
            "paper gain": one["paper gain"] if one is not None else np.nan,
        })
    return pd.DataFrame(rows)


def _stage(part: pd.Series) -> str:
    """A comparison's pre-registered ``stage``, "" where it has none (parts without gains hold NaN)."""
    stage = part.get("stage", "")
    return stage if isinstance(stage, str) else ""


def _paper_range(parts: pd.DataFrame) -> str:
    gains = parts["paper gain"].dropna()
    if gains.empty:
        return "—"
    if len(gains) == 1:
        return _paper_text(parts.dropna(subset=["paper gain"]).iloc[0])
    return f"gains {_signed(gains.min())} to {_signed(gains.max())} ({len(gains)} comparisons)"


def findings_html(table: pd.DataFrame, page_suffix: str = ".html") -> str:
    """The findings table as HTML for the book: one ``<tr data-verdict=...>`` per claim, the
    evidence beside the paper's numbers, the verdict, and a link to the page of its artefact. It
    fits a 1280-px page column and scrolls sideways inside its own box on a phone."""
    style = (
        "<style>.findings-wrap{overflow-x:auto;max-width:100%}"
        ".findings-table{border-collapse:collapse;font-size:.82rem;line-height:1.35;min-width:640px;width:100%}"
        ".findings-table th,.findings-table td{border-bottom:1px solid #ccc;padding:.35em .45em;vertical-align:top;"
        "text-align:left;overflow-wrap:break-word}"
        ".findings-table td.verdict{font-weight:600}.findings-table td.verdict small{font-weight:400;color:#57606a}"
        ".findings-table tr[data-verdict='reproduced'] td.verdict{color:#1a7f37}"
        ".findings-table tr[data-verdict='not reproduced'] td.verdict{color:#c62828}"
        ".findings-table tr[data-verdict='mixed'] td.verdict{color:#9a6700}"
        ".findings-table tr[data-verdict='undecided'] td.verdict{color:#0969da}"
        ".findings-table tr[data-verdict='untested'] td.verdict{color:#57606a}"
        ".findings-table .needs{color:#57606a;font-size:.95em}</style>")
    head = "".join(f"<th>{h}</th>" for h in ("claim", "evidence (ours)", "paper", "verdict"))
    body = []
    esc = lambda s: html.escape(str(s)).replace("\n", "<br>")  # noqa: E731
    for r in table.to_dict("records"):
        needs = f"<div class='needs'>needs: {esc(r['needs'])}</div>" if r["needs"] else ""
        other = f"<br><small>{esc(r['other protocols'])}</small>" if r.get("other protocols") else ""
        stage = f"<br><small class='stage'>{esc(r['stage'])} (pre-registered)</small>" if r.get("stage") else ""
        link = f"<a href='{r['page']}{page_suffix}'>{esc(r['artefact'])}</a>"
        body.append(
            f"<tr data-verdict='{esc(r['verdict'])}' data-claim='{esc(r['key'])}'>"
            f"<td>{esc(r['claim'])}<br><small>{link} · {esc(r['data set'])}</small></td>"
            f"<td>{esc(r['evidence'])}{needs}</td><td>{esc(r['paper'])}</td>"
            f"<td class='verdict'>{esc(r['verdict'])}{stage}<br><small>{esc(r['tested'])} tested</small>{other}"
            "</td></tr>")
    widths = "".join(f"<col style='width:{w}%'>" for w in (27, 43, 16, 14))
    return (f"{style}<div class='findings-wrap'><table class='findings-table'><colgroup>{widths}</colgroup>"
            f"<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def headline(parts: pd.DataFrame, key: str = "table2-mnist") -> dict[str, str]:
    """The numbers of one claim's first comparison as text, for the book's first screen (MyST-NB
    ``glue``): ``ours``, ``baseline``, ``n``, ``gain``, ``ci``, ``paper``, ``paper_gain``, the pre-registered
    ``reading`` (:func:`reading`), its ``stage`` (e.g. "interim reading, 11 of 15 seeds", or "no
    pre-registered analysis") and ``verdict``."""
    mine = parts[parts["claim"] == key]
    if mine.empty or not mine.iloc[0]["n"]:
        none = "no full-protocol run yet"
        keys = ("ours", "baseline", "n", "gain", "ci", "paper", "paper_gain", "reading", "stage")
        return {k: none for k in keys} | {"verdict": "untested"}
    p = mine.iloc[0]
    return {"ours": p["ours"], "baseline": p["theirs"], "n": str(int(p["n"])),
            "gain": _signed(p["gain"]), "ci": _interval(p["low"], p["high"]) if p["n"] > 1 else "—",
            "paper": f"{p['paper']:.2f} vs {p['paper against']:.2f}", "paper_gain": _signed(p["paper gain"]),
            "reading": p["reading"],
            "stage": f"{_stage(p)} (pre-registered)" if _stage(p) else "no pre-registered analysis",
            "verdict": claim_verdict(list(mine["verdict"]))}


def glue_findings(table: pd.DataFrame, parts: pd.DataFrame, headline_claim: str = "table2-mnist") -> dict[str, str]:
    """Glue (MyST-NB) the numbers the book's first screen quotes, so no page types them: the
    headline claim's numbers (``headline_<name>``, :func:`headline`), every claim's verdict
    (``verdict_<key>``), how many of the paper's claims have each verdict (``n_claims``,
    ``n_<verdict>`` with spaces as underscores), and apart the rows of our additions, which test a
    claim where the paper has no number (``n_additions``; ``additions``: their verdicts in words).
    Returns what it glued; without MyST-NB it only returns it."""
    values = {f"headline_{k}": v for k, v in headline(parts, headline_claim).items()}
    values |= {f"verdict_{k}": v for k, v in zip(table["key"], table["verdict"])}
    ours = table["addition"].astype(bool)
    paper_claims, additions = table[~ours], table[ours]
    values["n_claims"] = str(len(paper_claims))
    values |= {f"n_{v.replace(' ', '_')}": str(int((paper_claims["verdict"] == v).sum())) for v in VERDICTS}
    values["n_additions"] = str(len(additions))
    values["additions"] = ", ".join(f"{int((additions['verdict'] == v).sum())} {v}" for v in VERDICTS
                                    if (additions["verdict"] == v).any()) or "none yet"
    try:
        from myst_nb import glue  # noqa: PLC0415
    except ImportError:
        return values
    for key, value in values.items():
        glue(key, value, display=False)
    return values
