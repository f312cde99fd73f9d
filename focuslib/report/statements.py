"""Plain statements of how ours compares with the paper: the ranking of the rows, the paired gains
and their intervals, the post-hoc variants, Fig. 4's claims, the runs that did not train and the
code that trained them. Short templates only: every number comes from :mod:`~focuslib.report.facts`."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from .. import paper
from ..experiments import PROBE_EPOCHS
from .decision import interval_facts
from .evidence import chance
from .facts import (
    FailureTest,
    FirstSteps,
    PairAgreement,
    Spread,
    Trend,
    fig4_facts,
    health_facts,
    orderings,
    profile_differences,
    provenance_counts,
    variant_gains,
)
from .tables import PROFILE_LABEL, fmt, fmt_interval, paper_rows


def gain_verdict(low: float, high: float, paper_gain: float, n: int) -> str:
    """What a 95% interval ``[low, high]`` of our paired gain says about a gain and the paper's gain."""
    if pd.isna(low):
        return "one seed gives no interval"
    facts = interval_facts(low, high, paper_gain)
    ours = ("a significant gain" if facts.gain else "a significant loss" if facts.loss else
            "no significant gain or loss")
    if pd.isna(paper_gain):
        return f"{ours} (at 95%, n={n})"
    if not (facts.gain or facts.loss) and facts.paper_inside:
        return (f"{ours}, and the paper's gain of {paper_gain:+.2f} is not ruled out either: {n} seeds cannot tell "
                "them apart")
    where = "inside" if facts.paper_inside else "outside"
    return f"{ours} (at 95%, n={n}), and the paper's gain of {paper_gain:+.2f} is {where} it"


def describe(table: pd.DataFrame) -> str:
    """A plain statement per profile of how ours compares with the paper
    (:func:`~focuslib.report.facts.profile_differences`)."""
    lines = []
    for r in profile_differences(table).to_dict("records"):
        if r["smoke"]:
            lines.append(f"- **{r['profile']}**: {r['cells']} cells ran on a stand-in data set with a few epochs; they "
                         "show that the pipeline works and are not compared with the paper.")
        elif not r["compared"]:
            lines.append(f"- **{r['profile']}**: no cell has both a paper number and a finished run yet.")
        else:
            lines.append(
                f"- **{r['profile']}**: {r['compared']} cells compared; mean difference ours − paper "
                f"{r['mean difference']:+.2f} points, largest {r['largest difference']:+.2f} "
                f"({r['largest method']}, {r['largest data set']})."
            )
    return "\n".join(lines) or "- No results yet."


def _pattern_agreement(agreement: PairAgreement | None, label: Callable[[str], str]) -> str:
    """:class:`~focuslib.report.facts.PairAgreement` in words."""
    if agreement is None:
        return ""

    def kept(broken: tuple[tuple[str, str], ...]) -> str:
        named = [f"{label(a)} < {label(b)}" for a, b in broken]
        return f"{len(agreement.pairs) - len(broken)} of them" + (f" (not: {'; '.join(named)})." if broken else ".")

    text = (f" On every data set of its table the paper ranks {len(agreement.pairs)} pairs of these rows the same way; "
            f"over the {agreement.seeds} seed(s) every row here has finished, our means keep {kept(agreement.broken)}")
    if agreement.trained_seeds:
        text += (f" Over the {len(agreement.trained_seeds)} seed(s) on which every row trained "
                 f"({', '.join(map(str, agreement.trained_seeds))}), they keep {kept(agreement.trained_broken)}")
    return text


def describe_ordering(runs: pd.DataFrame, table: str | int = 2, profile: str = "paper", gain_of: str = "focusnet",
                      metric: str = "test_top1") -> str:
    """A plain statement per full-protocol (data set, model) of :func:`~focuslib.report.facts.orderings`:
    our means beside the paper's, whether the paper's ranking of the rows holds, and ``gain_of``'s
    paired gain over its own baseline beside the paper's gain. A data set the paper's table lacks
    gets our ranking only."""
    labels = paper_rows(table, metric.replace("test_", "")).drop_duplicates("method").set_index("method")["label"]
    label = lambda m: labels.get(m, m)  # noqa: E731
    lines = []
    for o in orderings(runs, table, profile, gain_of, metric):
        head = f"- **{o.dataset} ({o.model}), {PROFILE_LABEL.get(profile, profile)}**"
        ours = {m: (mean, n) for m, mean, n in o.ours}
        if not o.paper:
            ranking = " < ".join(f"{label(m)} {mean:.2f} (n={n})" for m, mean, n in o.ours)
            text = f"{head}: the paper's table has no numbers here (our addition). Ours, low to high: {ranking}."
            text += _pattern_agreement(o.agreement, label)
        else:
            values = "; ".join(f"{label(m)} {ours[m][0]:.2f}, n={ours[m][1]} (paper {value:.2f})"
                               for m, value in o.paper)
            order = [m for m, _ in o.paper]
            holds = ("holds" if o.holds else
                     f"does not hold (ours, low to high: {' < '.join(label(m) for m in ours if m in order)})")
            text = (f"{head}: {values}. The paper's ranking "
                    f"(low to high: {' < '.join(label(m) for m in order)}) {holds}.")
            if o.not_run:
                text += f" Not run yet: {', '.join(label(m) for m in o.not_run)}."
        if o.seeds_differ:
            text += " These means cover different numbers of seeds; the paired gain compares the same seeds."
        for f in o.failures:
            where = ("it is left out of the mean above" if f.row in ours else
                     "no run of this row trained, so it has no mean above")
            text += (f" {label(f.row)} seed {f.seed} did not train: {f.problem}; {where} "
                     f"(counting it: {f.mean_with:.2f}, n={f.n_with}).")
        if o.gain_n:
            paper_gain = "" if pd.isna(o.paper_gain) else f"; the paper's gain: {o.paper_gain:+.2f}"
            left = (f" ({o.gain_left_out} seed(s) left out because a run did not train)"
                    if o.gain_left_out else "")
            text += (f" {label(gain_of)}'s gain over its own baseline, paired by seed where both trained{left}: "
                     f"{fmt(o.gain, o.gain_std, o.gain_n)}, {o.gaining}/{o.gain_n} seeds gaining{paper_gain}.")
            if pd.notna(o.low):
                text += (f" Its 95% confidence interval over seeds (Student t) is {fmt_interval(o.low, o.high)}: "
                         f"{gain_verdict(o.low, o.high, o.paper_gain, o.gain_n)}.")
        if o.outside:
            text += (" The paper's number lies outside our 95% interval of the mean for "
                     f"{'; '.join(f'{label(m)} (ours {low:.2f} to {high:.2f})' for m, low, high in o.outside)}.")
        lines.append(text)
    return "\n".join(lines) or "- No full-protocol runs yet."


def describe_variants(runs: pd.DataFrame, profile: str = "paper", metric: str = "test_top1") -> str:
    """A plain statement per post-hoc FocusNet variant and data set: the seeds finished, those
    that did not train, and, over the seeds where it and its baseline trained, the variant's paired
    gain over its own baseline beside the paper's reading of the loss (``focusnet``) on the same seeds."""
    lines = []
    for r in variant_gains(runs, profile, metric).to_dict("records"):
        text = f"- **{r['variant']}** (post-hoc), {r['dataset']} ({r['model']}): {r['finished']} seed(s) finished"
        for seed, problem in r["failed"]:
            text += f"; seed {seed} did not train, {problem}"
        if r["n"]:
            text += (f". Over the {r['n']} seed(s) where it and its baseline trained, its paired gain over "
                     f"its own baseline is "
                     f"{fmt(r['gain'], r['gain std'], r['n'])} ({r['gaining']}/{r['n']} seeds gaining)")
            if r["focusnet n"]:
                text += (f"; the paper's reading of the loss on the same seeds: "
                         f"{fmt(r['focusnet gain'], r['focusnet std'], r['focusnet n'])}")
        lines.append(text + ".")
    return "\n".join(lines) or "- No variant runs yet."


def describe_fig4(runs: pd.DataFrame, metric: str = "test_top1") -> str:
    """A plain statement per (data set, model, profile) of how ours bears out Fig. 4's two
    claims (Sec. 4.4): FocusNet improves as its baseline branch gets more accurate, and beats
    the fully trained baseline even on a baseline near chance. Each FocusNet run is paired with
    the fully trained baseline of its seed; "improves" is read as a positive rank
    correlation, over the stops, between the stopped baselines' and FocusNet's mean accuracy:
    Kendall's τ with its (exact, for a few stops) two-sided p below 0.05."""
    ref = paper.table("fig4").set_index("dataset")["value"]
    paper_low = ", ".join(f"{v:.2f}% on {d}" for d, v in ref.items())
    lines = []
    for f in fig4_facts(runs, metric):
        if str(f.profile).startswith("smoke"):
            lines.append(f"- **{f.dataset} ({f.model}), {PROFILE_LABEL.get(f.profile, f.profile)}**: a pipeline check "
                         f"on stand-in data ({len(f.stops)} stops); it says nothing about the paper's claims.")
            continue
        first, k, beats = f.stops.iloc[0], int(f.stops.index[0]), f.beats
        head = (f"- **{f.dataset} ({f.model}), {PROFILE_LABEL.get(f.profile, f.profile)}**, fully trained baseline "
                f"{f.full:.2f} (n={f.full_n}, the seeds of these runs)")
        if first["n"] < 2:
            holds = "is not tested here (fewer than 2 pairs)"
        else:
            facts = interval_facts(first["low"], first["high"], float("nan"))
            holds = (("holds" if facts.gain else "does not hold" if facts.loss else "is undecided")
                     + f" here (95% interval of the gain {fmt_interval(first['low'], first['high'])})")
        untrained = " (our addition: the untrained network of each seed" if k == 0 else ""
        reaches = f"which reaches {first['baseline']:.2f}%" if pd.notna(first["baseline"]) else ""
        text = (f"{head}: FocusNet on the baseline stopped after {k} epoch{'s' if k != 1 else ''}"
                + (f"{untrained}, {reaches})" if untrained else f" ({reaches})" if reaches else "")
                + f" reaches {first['focusnet']:.2f}, "
                + (f"{first['gain']:+.2f} points against the fully trained baseline of the same seeds "
                   f"({int(first['gaining'])}/{int(first['n'])} seeds gaining)" if first["n"] else
                   "with no fully trained baseline that trained to pair it with")
                + "; the paper "
                f"reports FocusNet above its fully trained baseline even on its least accurate baselines "
                f"({paper_low}), which {holds}"
                + (f"; but our least-trained baseline is far from chance ({chance(f.dataset):.2f}%), "
                   "so this does not test the paper's near-chance case" if not f.near_chance else "")
                + ". FocusNet on a "
                f"stopped baseline beats the fully trained baseline at {len(beats)} of {len(f.stops)} stops"
                + (f" (stopped after {', '.join(str(int(x)) for x in beats)} epoch{'s' if beats != [1] else ''})"
                   if beats else "") + ".")
        if f.unpaired:
            text += (" In FocusNet's means but in no pair (no fully trained baseline that trained): "
                     + ", ".join(f"seed {seed} (its fully trained baseline {why})" for seed, why in f.unpaired) + ".")
        text += _fig4_trend(f.trend)
        if f.top5:
            text += (" The paper argues that the confusing classes a baseline picks are credible as far as its top-k "
                     f"accuracy, not its top-1, is high: our stopped baselines' mean test top-5 "
                     f"is {f.top5[0]:.2f}% to {f.top5[1]:.2f}% across the stops.")
        if f.on_full_pairs:
            text += (" Against FocusNet on the fully trained baseline of the same seed, FocusNet on a stopped "
                     f"baseline is higher in {f.above_on_full} of {f.on_full_pairs} pairs of runs that trained "
                     f"(mean {f.on_full_gain:+.2f} points).")
        if f.failed:
            named = ", ".join(_run_name(row, seed, x) for row, seed, x in f.failed)
            them = "them" if len(f.failed) > 1 else "it"
            trend = (f" Counting {them} at {'their' if len(f.failed) > 1 else 'its'} accuracy (Kendall τ = "
                     f"{f.trend_all.tau:+.2f}, p = {f.trend_all.p:.2f})." if f.trend_all else "")
            text += (f" {len(f.failed)} FocusNet run{'s' if len(f.failed) > 1 else ''} did not train ({named}), "
                     f"left out of the means and pairs above.{trend}")
        if (f.stops["runs"] + f.stops["did not train"]).nunique() > 1:
            text += " The stops cover different numbers of seeds so far."
        lines.append(text)
    return "\n".join(lines) or "- No Fig. 4 runs yet."


def _fig4_trend(t: Trend | None, quote: bool = True) -> str:
    """:class:`~focuslib.report.facts.Trend` in words, a trend only when p < 0.05; empty without
    one. ``quote`` adds the paper's claim."""
    if t is None:
        return ""
    trend = ("rises" if t.tau > 0 else "falls") if t.significant else "shows no significant trend"
    claim = "; the paper: it \"generally improves as the accuracy of the baseline network increases\"" if quote else ""
    return (f" Across the {t.stops} stops FocusNet's accuracy {trend} with its baseline's "
            f"(Kendall τ = {t.tau:+.2f}, p = {t.p:.2f}{claim}), from {t.lowest:.2f} to {t.highest:.2f}.")


def failure_rates(f: FailureTest) -> str:
    """How sure the failure counts are (:func:`~focuslib.report.facts.failure_test`), in words."""
    text = f" Failure rate {f.rate:.0%} (exact 95% interval {f.low:.0%} to {f.high:.0%})."
    if f.worst is not None:
        verdict = ("unlikely under one failure rate common to all rows" if f.differ else
                   "too few runs to say that the rows fail at different rates")
        text += (f" {f.worst} ({f.worst_failed} of {f.worst_runs}) against the other rows "
                 f"({f.failed - f.worst_failed} of {f.runs - f.worst_runs}): "
                 f"Fisher's exact test p = {f.p:.2f}, {verdict}.")
    return text


def _run_name(row: str, seed: int, x: float = float("nan")) -> str:
    """``row seed s``, with Fig. 4's stop when the run has one."""
    stop = f" on the {int(x)}-epoch baseline" if pd.notna(x) and row == "focusnet_on_teacher" else ""
    return f"{row} seed {seed}{stop}"


def _spread(s: Spread, f: str) -> str:
    """The runs that did not train (range) against those that trained (median, range), each as ``f``."""
    text = f"{s.bad_min:{f}}–{s.bad_max:{f}}" if s.bad_min != s.bad_max else f"{s.bad_min:{f}}"
    return text + (f" against {s.good_median:{f}} ({s.good_min:{f}}–{s.good_max:{f}})" if s.good_n else "")


def _first_steps(f: FirstSteps | None) -> str:
    """:class:`~focuslib.report.facts.FirstSteps` in words; empty without them."""
    if f is None:
        return ""
    per_layer = "; ".join(f"{layer}: {_spread(spread, 'g')}" for layer, spread in f.inactive)
    text = (f" The first {f.steps} steps, replayed exactly ({f.runs} runs, {f.failed} of them did not train). "
            f"Units inactive on the batch of step {f.steps}, in the runs that did not train against those that trained "
            f"(median, range): {per_layer}. "
            f"Largest gradient norm over these steps: {_spread(f.peak, '.1f')}")
    if f.no_larger:
        text += ": the runs that did not train had no larger gradients than some runs that trained"
    return text + "."


def describe_health(runs: pd.DataFrame, profile: str = "paper", metric: str = "test_top1") -> str:
    """A plain statement per (data set, model) of :func:`~focuslib.report.facts.health_facts`: how
    often the recipe failed, per row, whether each failed run was already at chance after its
    first epoch, every row's mean train accuracy over that epoch, and what the stability probes
    (:data:`~focuslib.experiments.PROBES`) reached."""
    lines = []
    for h in health_facts(runs, profile, metric):
        head = f"- **{h.dataset} ({h.model}), {PROFILE_LABEL.get(profile, profile)}**"
        if not h.failed:
            lines.append(f"{head}: every one of the {h.finished} finished runs trained.")
            continue
        per_row = "; ".join(f"{row} {k} of {n}" for row, k, n in h.per_row)
        text = f"{head}: {h.failed} of {h.finished} finished runs did not train ({per_row})."
        text += failure_rates(h.failures)
        text += (" Each was already at chance after its first epoch." if h.at_chance_first == h.failed else
                 f" {h.at_chance_first} of them were at chance after their first epoch.")
        if h.recovered:
            found = "; ".join(f"{_run_name(row, seed, x)} (left chance after epoch {epoch})"
                              for row, seed, x, epoch in h.recovered)
            text += (" Being at chance after the first epoch does not seal a run: "
                     f"{len(h.recovered)} run(s) that trained were at chance then too: {found}.")
        text += _first_steps(h.first_steps)
        if h.train_means is not None:
            text += (" Mean train accuracy over the first epoch of the runs that did train, per row: "
                     + "; ".join(f"{row} {v:.1f}%" for row, v in h.train_means) + ".")
        for probe, finals in h.probes:
            values = ", ".join(f"{v:.2f}" for v in finals)
            text += (f" Probed for {PROBE_EPOCHS} epochs at {probe.describe()}: {values}% "
                     f"({len(finals)} of {h.failed} probed).")
        if h.remedies:
            text += (f" Trained again with the whole recipe after a {h.remedy_warmup}-epoch "
                     f"linear lr warm-up (a remedy chosen after seeing the failures, never a result): "
                     + "; ".join(f"{row} seed {seed} {final:.2f}% (its baseline {base:.2f}%)"
                                 for row, seed, final, base in h.remedies)
                     + f" ({len(h.remedies)} of {h.failed} failed runs so far).")
        lines.append(text)
    return "\n".join(lines) or "- No finished runs yet."


def describe_provenance(frame: pd.DataFrame) -> str:
    """A plain statement of which code trained the runs of :func:`~focuslib.report.evidence.provenance`:
    how many code versions, how many records reach back to epoch 1, which runs list uncommitted
    code, and what the full replays by committed code found."""
    c = provenance_counts(frame)
    if not c.runs:
        return "No full-protocol runs yet."
    text = (f"{c.runs} finished runs, trained by {c.versions} code versions; {c.from_epoch_1} of them "
            f"record every process that trained them, back to epoch 1 (the others only their last process).")
    if not c.uncommitted:
        return text + " None lists uncommitted code."
    text += (f" {len(c.uncommitted)} list uncommitted code (a version ending in .dirty): {'; '.join(c.uncommitted)}."
             f" A full replay by committed code reproduced {c.replayed} of them at every epoch")
    text += f"; {c.differ} differ" if c.differ else ""
    return text + (f"; {c.not_replayed} not replayed by committed code yet." if c.not_replayed else ".")
