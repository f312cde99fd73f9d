"""The pre-registered decisions (``book/preregistration.md``), computed from the store.

Per row: the paired gain over the baseline of the same seed, over the seeds where both runs
trained (mean and 95 % Student-t interval); the decision rule against the paper's gain; and the
failure rate (runs that did not train, :func:`~focuslib.report.evidence.at_chance`) with a
Wilson 95 % interval, reported beside the gain and never folded into it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .evidence import retrained_baselines, trained
from .tables import fmt_interval, paired_gains, paper_rows, t_interval

#: The fixed outcomes of the rule, in the order they are checked and listed.
OUTCOMES = ("the paper's gain is excluded", "a gain is shown", "a loss is shown")


def wilson(failures: int, runs: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``failures / runs`` (Wilson 1927); NaNs without runs."""
    from scipy.stats import norm  # noqa: PLC0415

    if runs == 0:
        return (math.nan, math.nan)
    z = norm.ppf((1 + level) / 2)
    p = failures / runs
    centre = (p + z * z / (2 * runs)) / (1 + z * z / runs)
    half = z / (1 + z * z / runs) * math.sqrt(p * (1 - p) / runs + z * z / (4 * runs * runs))
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class IntervalFacts:
    """Where a 95% interval of a gain lies against 0 and the paper's gain (False against a NaN gain)."""

    gain: bool  #: above 0
    loss: bool  #: below 0
    paper_inside: bool  #: the paper's gain lies in it
    below_paper: bool  #: it lies below the paper's gain


def interval_facts(low: float, high: float, paper_gain: float) -> IntervalFacts:
    """Classify the interval ``[low, high]`` against 0 and ``paper_gain``: the one rule that
    :func:`outcomes`, the findings' verdicts and the statements' verdicts share."""
    return IntervalFacts(gain=low > 0, loss=high < 0, paper_inside=low <= paper_gain <= high,
                         below_paper=high < paper_gain)


def outcomes(low: float, high: float, paper_gain: float) -> list[str]:
    """Which of :data:`OUTCOMES` the interval ``[low, high]`` shows; none: undecided. Without a
    paper gain (NaN) only the comparison with 0 is made."""
    facts = interval_facts(low, high, paper_gain)
    return [o for o, shown in zip(OUTCOMES, (facts.below_paper, facts.gain, facts.loss)) if shown]


def paper_gain(row: str, dataset: str, model: str, baseline: str = "ce", table: str | int = 2) -> float:
    """The paper's gain of ``row`` over ``baseline`` (its Table 2 numbers); a post-hoc variant
    ``focusnet[...]`` is judged against the paper's FocusNet; NaN where the paper has no number."""
    ref = paper_rows(table).set_index(["method", "dataset", "model"])["value"]
    method = row.split("[")[0]
    return float(ref.get((method, dataset, model), np.nan) - ref.get((baseline, dataset, model), np.nan))


def _with_trained(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The finished runs of ``runs`` (one per row, data set, model, profile and seed) with a
    ``trained`` column (a final ``metric`` above chance level, :func:`at_chance`)."""
    done = runs.dropna(subset=[metric]).drop_duplicates(["row", "dataset", "model", "profile", "seed"])
    return done.assign(trained=trained(done, metric))


def _failures(part: pd.DataFrame) -> dict[str, float]:
    """Runs of ``part`` (with ``trained``), those that did not train, their rate and its Wilson interval."""
    failed = int((~part["trained"]).sum())
    low, high = wilson(failed, len(part))
    return {"runs": len(part), "did not train": failed, "failure rate": failed / len(part),
            "failure 95% low": low, "failure 95% high": high}


def baseline_failures(runs: pd.DataFrame, baseline: str = "ce", metric: str = "test_top1") -> pd.DataFrame:
    """The failure rate of the ``baseline`` row, reported as every row's (pre-registered): one line
    per (data set, model, profile) of ``runs`` with :func:`preregistered`'s failure columns."""
    done = _with_trained(runs, metric)
    return pd.DataFrame([{"row": baseline, "dataset": d, "model": m, "profile": p, **_failures(part)}
                         for (d, m, p), part in done[done["row"] == baseline].groupby(
                             ["dataset", "model", "profile"], sort=False)])


def preregistered(runs: pd.DataFrame, rows: Sequence[str], baseline: str = "ce", metric: str = "test_top1",
                  paper_gains: Mapping[str, float] | None = None, paper_model: str | None = None) -> pd.DataFrame:
    """One line per (row, data set, model, profile) of ``runs`` (a plan's results: ``row``,
    ``dataset``, ``model``, ``profile``, ``seed`` and ``metric``): runs, failures with their Wilson
    interval, the paired gain over the seeds where both trained with its t-interval, the paper's
    gain (``paper_gains`` per row, else :func:`paper_gain` for the runs' model, or ``paper_model``
    where ours is another, e.g. the reduced protocol's ResNet-20 against the paper's ResNet-18)
    and the decision, in the order of ``rows``."""
    done = _with_trained(runs, metric)
    pairs = {row: paired_gains(done[done["trained"]], row, baseline, metric) for row in rows}
    out = []
    for (row, dataset, model, profile), part in done[done["row"].isin(rows)].groupby(
            ["row", "dataset", "model", "profile"], sort=False):
        pg = pairs[row]
        gains = pg[(pg["dataset"] == dataset) & (pg["model"] == model) & (pg["profile"] == profile)]["gain"]
        low, high = t_interval(gains.to_numpy())
        ref = (paper_gains or {}).get(row, paper_gain(row, dataset, paper_model or model, baseline))
        shown = outcomes(low, high, ref) if len(gains) >= 2 else []
        out.append({"row": row, "dataset": dataset, "model": model, "profile": profile, **_failures(part),
                    "pairs": len(gains), "paired gain": gains.mean() if len(gains) else math.nan,
                    "gain std": gains.std(ddof=1) if len(gains) > 1 else math.nan,
                    "gain 95% low": low, "gain 95% high": high, "paper gain": ref,
                    **{o: o in shown for o in OUTCOMES},
                    "decision": "; ".join(shown) if shown else f"undecided at {len(gains)} seed pair(s)"})
    frame = pd.DataFrame(out)
    order = {row: i for i, row in enumerate(rows)}
    return frame.sort_values("row", key=lambda r: r.map(order), kind="stable", ignore_index=True) if out else frame


@dataclass(frozen=True)
class Preregistration:
    """One pre-registered analysis of ``book/preregistration.md``: the runs it reads (``profile``,
    ``datasets``, ``seeds``; Table 2's rows, and ``table10_rows`` from Table 10's plan), the rows it
    ``judges`` against the ``baseline`` of the same seed, and the post-hoc rows it reports ``apart``
    (same statistic, never part of the decision)."""

    title: str
    profile: str
    datasets: tuple[str, ...]
    seeds: tuple[int, ...]
    judges: tuple[str, ...]
    apart: tuple[str, ...] = ()
    table10_rows: tuple[str, ...] = ()
    baseline: str = "ce"
    #: the paper's model whose gain it is judged against, where ours is another (None: the same)
    paper_model: str | None = None
    #: the number of seeds at which the pre-registration asks for its decision
    decided_at: int = 5

    @property
    def rows(self) -> tuple[str, ...]:
        """Every row it reports: the judged ones, then those reported apart."""
        return (*self.judges, *self.apart)

    def only(self, *rows: str) -> Preregistration:
        """The same analysis shown for ``rows`` alone (e.g. Table 10's page: L_cls + R_ent); the
        runs it reads and the rule are unchanged."""
        unknown = set(rows) - set(self.rows)
        if unknown:
            raise ValueError(f"{sorted(unknown)} are not rows of {self.title!r}; its rows: {list(self.rows)}")
        return replace(self, judges=tuple(r for r in self.judges if r in rows),
                       apart=tuple(r for r in self.apart if r in rows))

    def runs(self, results_dir: str | None = None) -> pd.DataFrame:
        """Every finished run of the baseline and of :attr:`rows` for :attr:`seeds`, read from the
        store, never trained."""
        from .. import experiments  # noqa: PLC0415

        P = {"profile": self.profile, "dataset": list(self.datasets), "seeds": list(self.seeds)}
        table2 = [r for r in self.rows if r not in self.table10_rows]
        cells = experiments.plan("table2", {**P, "methods": [self.baseline, *(r for r in table2 if "[" not in r)],
                                            "variants": [r for r in table2 if "[" in r]})
        if self.table10_rows:
            cells += [c for c in experiments.plan("table10", P) if c.row in self.table10_rows]
        runs = experiments.run_plan(cells, results_dir=results_dir, train=False)
        return runs.dropna(subset=["test_top1"]) if "test_top1" in runs else runs.iloc[0:0]

    def mine(self, runs: pd.DataFrame) -> pd.DataFrame:
        """The runs of ``runs`` at :attr:`seeds` (a store's reading may hold others)."""
        return runs[runs["seed"].isin(self.seeds)] if len(runs) else runs

    def at_decision(self) -> Preregistration:
        """The analysis the decision is read from: the first :attr:`decided_at` of :attr:`seeds`
        (MNIST: seeds 0-14). Seeds past them, run as the pre-registration allows, add precision to
        the reading at every finished seed; they never replace the decision."""
        return replace(self, seeds=self.seeds[:self.decided_at])

    def pairs(self, runs: pd.DataFrame, metric: str = "test_top1") -> pd.DataFrame:
        """Per row of :attr:`rows` and seed where both it and the baseline of that seed trained:
        both accuracies and the paired ``gain`` (the points of :func:`preregistered`'s statistic)."""
        done = _with_trained(self.mine(runs), metric)
        trained = done[done["trained"]]
        frames = [paired_gains(trained, row, self.baseline, metric).rename(columns={row: "row's"}).assign(row=row)
                  for row in self.rows]
        out = pd.concat([pd.DataFrame(), *frames], ignore_index=True)
        return out.reindex(columns=["row", "dataset", "model", "seed", "row's", self.baseline, "gain"])

    def finished_seeds(self, runs: pd.DataFrame) -> int:
        """How many of :attr:`seeds` have a finished run (trained or not) of the baseline and of every
        row it :attr:`judges` in ``runs`` (e.g. :meth:`runs`): the n of "seeds finished" in
        ``book/preregistration.md``; a seed the baseline has but a judged row lacks is not one."""
        mine = self.mine(runs)
        if not len(mine):
            return 0
        have = [set(mine.loc[mine["row"] == row, "seed"]) for row in (self.baseline, *self.judges)]
        return len(set.intersection(*have))

    def decided(self, runs: pd.DataFrame) -> bool:
        """Whether every seed of :meth:`at_decision` is finished (:meth:`finished_seeds`)."""
        return self.at_decision().finished_seeds(runs) == self.decided_at

    def progress(self, runs: pd.DataFrame) -> str:
        """How far the analysis has come on ``runs``: "interim reading, 11 of 15 seeds" until
        :meth:`decided` (or "interim reading at 15 seeds, 14 of the decision's 15" where a seed of
        the decision is missing), then "decision at 15 seeds", and "decision at 15 seeds; reading at
        17" once seeds past the decision's have finished."""
        seeds = self.finished_seeds(runs)
        if not self.decided(runs):
            if seeds < self.decided_at:
                return f"interim reading, {seeds} of {self.decided_at} seeds"
            return (f"interim reading at {seeds} seeds, {self.at_decision().finished_seeds(runs)} of the "
                    f"decision's {self.decided_at}")
        more = f"; reading at {seeds}" if seeds > self.decided_at else ""
        return f"decision at {self.decided_at} seeds{more}"

    def reading(self, runs: pd.DataFrame) -> str:
        """:meth:`progress` after the title, for a heading or a figure's title."""
        return f"{self.title}: {self.progress(runs)}"

    def covers(self, row: str, dataset: str, profile: str) -> bool:
        """Whether ``row`` on ``dataset`` under ``profile`` is one it judges, or its baseline (a
        post-hoc row reported apart is not: no stage of the decision is read from it)."""
        return profile == self.profile and dataset in self.datasets and row in (self.baseline, *self.judges)

    def decide(self, runs: pd.DataFrame) -> pd.DataFrame:
        """:func:`preregistered` over :attr:`rows` and the runs at :attr:`seeds`, with a ``post hoc``
        column (the rows reported apart)."""
        frame = preregistered(self.mine(runs), self.rows, self.baseline, paper_model=self.paper_model)
        return frame.assign(**{"post hoc": frame["row"].isin(self.apart)}) if len(frame) else frame


#: MNIST, decisive (Table 2 and Table 10, LeNet-5, the paper's full protocol): seeds 0-14 at
#: least, 0-19 if time allows; the official code's gradient through d is post-hoc, reported apart.
MNIST_DECISIVE = Preregistration("MNIST, decisive", "paper", ("mnist",), tuple(range(20)),
                                 judges=("focusnet", "lcls+rent"), apart=("focusnet[d_attached]",),
                                 table10_rows=("lcls+rent",), decided_at=15)
#: CIFAR-10 on the CPU (ResNet-20, the reduced protocol of ``params/reduced.yaml``, our addition):
#: seeds 0-4; the official code's settings are a post-hoc row reported apart.
CIFAR10_REDUCED = Preregistration("CIFAR-10, reduced protocol on CPU (our addition)", "reduced", ("cifar10",),
                                  tuple(range(5)), judges=("focusnet",), apart=("focusnet[official]",),
                                  paper_model="resnet18")


#: Every pre-registered analysis of ``book/preregistration.md``.
PREREGISTRATIONS = (MNIST_DECISIVE, CIFAR10_REDUCED)


def covering(row: str, dataset: str, profile: str = "paper") -> Preregistration | None:
    """The pre-registered analysis that judges ``row`` (or takes it as its baseline) on ``dataset``
    under ``profile`` (:meth:`Preregistration.covers`), or None."""
    return next((p for p in PREREGISTRATIONS if p.covers(row, dataset, profile)), None)


def describe_decisions(frame: pd.DataFrame, baseline: pd.DataFrame | None = None) -> str:
    """One sentence per row of :func:`preregistered`'s frame, and per line of the
    :func:`baseline_failures` ``baseline``, numbers only from them."""
    lines = [f"- **{r['row']}** ({r['dataset']}, the baseline of every pair): {r['did not train']} of {r['runs']} "
             f"run(s) did not train (Wilson 95% {r['failure 95% low']:.0%} to {r['failure 95% high']:.0%})."
             for _, r in (baseline if baseline is not None else pd.DataFrame()).iterrows()]
    for _, r in frame.iterrows():
        apart = " post-hoc, reported apart," if r.get("post hoc", False) else ""
        paper = "no paper number" if math.isnan(r["paper gain"]) else f"the paper's {r['paper gain']:+.2f}"
        interval = ("no interval yet" if r["pairs"] < 2
                    else f"95% interval {fmt_interval(r['gain 95% low'], r['gain 95% high'])}")
        lines.append(f"- **{r['row']}** ({r['dataset']},{apart} {r['pairs']} seed pair(s) that trained): paired gain "
                     f"{r['paired gain']:+.2f} points, {interval}, against {paper}: **{r['decision']}**. "
                     f"{r['did not train']} of {r['runs']} run(s) did not train (Wilson 95% "
                     f"{r['failure 95% low']:.0%} to {r['failure 95% high']:.0%}).")
    return "\n".join(lines + ([] if len(frame) else ["- No finished run of the compared rows yet."]))


def describe_retrained(frame: pd.DataFrame) -> str:
    """One sentence per run of :func:`~focuslib.report.evidence.retrained_baselines` (nothing if none)."""
    return "".join(f"\n- **{r['row']}** seed {r['seed']} ({r['dataset']}) was trained against its baseline's weights "
                   f"trained again on {r['retrained on']}: final top-1 {r['baseline used']:.2f} where the baseline's "
                   f"record says {r['baseline record']:.2f}; its pair reads the record, as pre-registered."
                   for _, r in frame.iterrows())


def describe_preregistration(prereg: Preregistration, runs: pd.DataFrame) -> str:
    """How far ``prereg`` has come and :func:`describe_decisions` of its ``runs``
    (:meth:`Preregistration.runs`): an interim reading until every seed of the decision has
    finished; then the decision at those seeds and, once seeds past them have finished, the
    reading at every finished seed below it."""

    def lines(analysis: Preregistration) -> str:
        mine = analysis.mine(runs)
        return (describe_decisions(analysis.decide(runs), baseline_failures(mine, analysis.baseline))
                + describe_retrained(retrained_baselines(mine[mine["row"].isin(analysis.rows)] if len(mine) else mine)))

    if not prereg.decided(runs):
        return (f"**{prereg.reading(runs)}.** The pre-registration asks for its decision when the baseline and "
                f"every judged row have finished seeds {_span(prereg.at_decision().seeds)}; until then every "
                "outcome below is interim.\n\n" + lines(prereg))
    decision = prereg.at_decision()
    text = (f"**{prereg.title}: decision at {prereg.decided_at} seeds** (seeds {_span(decision.seeds)}, the "
            f"decision the pre-registration asks for).\n\n" + lines(decision))
    seeds = prereg.finished_seeds(runs)
    if seeds > prereg.decided_at:
        text += (f"\n\n**Reading at every finished seed** ({seeds} finished by every judged row; seeds past the "
                 f"decision's {_span(decision.seeds)}, run as the pre-registration allows, add precision and never "
                 "replace the decision above; each row states its seed pairs).\n\n" + lines(prereg))
    return text


def _span(seeds: Sequence[int]) -> str:
    """``0–14`` for a run of consecutive seeds, else the seeds listed."""
    consecutive = list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))) if seeds else False
    return f"{seeds[0]}–{seeds[-1]}" if consecutive and len(seeds) > 1 else ", ".join(map(str, seeds))
