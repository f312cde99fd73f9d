"""Plain statements, generated from the runs, of how ours compares with the paper: the ranking of
the rows, the paired gains and their intervals, the post-hoc variants, and Fig. 4's claims."""

from __future__ import annotations

from collections.abc import Callable, Collection

import pandas as pd
from scipy import stats

from .. import paper
from ..experiments import FOCUSNET_VARIANTS, PROBE_EPOCHS, PROBES
from .evidence import INACTIVE, at_chance, chance, curves, health, remedies, stability_probes, step_traces
from .tables import PROFILE_LABEL, fig4_runs, fmt, gains, paired_gains, paper_rows, summarise, t_interval


def gain_verdict(low: float, high: float, paper_gain: float, n: int) -> str:
    """What a 95% interval ``[low, high]`` of our paired gain says about a gain and the paper's gain."""
    if pd.isna(low):
        return "one seed gives no interval"
    ours = ("no significant gain or loss" if low <= 0 <= high else
            "a significant gain" if low > 0 else "a significant loss")
    if pd.isna(paper_gain):
        return f"{ours} (at 95%, n={n})"
    paper_fits = low <= paper_gain <= high
    if ours.startswith("no") and paper_fits:
        return (f"{ours}, and the paper's gain of {paper_gain:+.2f} is not ruled out either: {n} seeds cannot tell "
                "them apart")
    where = "inside" if paper_fits else "outside"
    return f"{ours} (at 95%, n={n}), and the paper's gain of {paper_gain:+.2f} is {where} it"


def describe(table: pd.DataFrame) -> str:
    """A plain statement, generated from the numbers, of how ours compares with the paper."""
    lines = []
    for profile, part in table.groupby("profile", sort=False):
        compared = part.dropna(subset=["paper", "ours − paper"])
        if profile.startswith("smoke"):
            lines.append(f"- **{profile}**: {len(part)} cells ran on a stand-in data set with a few epochs; they show "
                         "that the pipeline works and are not compared with the paper.")
        elif compared.empty:
            lines.append(f"- **{profile}**: no cell has both a paper number and a finished run yet.")
        else:
            worst = compared.loc[compared["ours − paper"].abs().idxmax()]
            lines.append(
                f"- **{profile}**: {len(compared)} cells compared; mean difference ours − paper "
                f"{compared['ours − paper'].mean():+.2f} points, largest {worst['ours − paper']:+.2f} "
                f"({worst['method']}, {worst['data set']})."
            )
    return "\n".join(lines) or "- No results yet."


def paper_pairs(table: str | int, metric: str = "top1") -> list[tuple[str, str]]:
    """The pairs ``(a, b)`` of the paper's rows of ``table`` with ``a`` below ``b`` on every data
    set where the paper gives both: the part of its ranking that all its data sets share."""
    values = paper_rows(table, metric).pivot_table(index="method", columns=["dataset", "model"], values="value")
    pairs = []
    for a in values.index:
        for b in values.index:
            both = values.loc[[a, b]].dropna(axis=1)
            if a != b and both.shape[1] and (both.loc[a] < both.loc[b]).all():
                pairs.append((a, b))
    return pairs


def _pattern_agreement(runs: pd.DataFrame, table: str | int, metric: str, label: Callable[[str], str],
                       failed_seeds: Collection[int] = ()) -> str:
    """For a data set the paper's table lacks: how many of :func:`paper_pairs` our means keep,
    over the seeds that every row of ``runs`` has finished and, where some of its runs did not
    train (``failed_seeds``), again over the seeds on which every row trained."""
    pairs = [(a, b) for a, b in paper_pairs(table, metric.replace("test_", "")) if {a, b} <= set(runs["row"])]
    per_seed = runs.pivot_table(index="seed", columns="row", values=metric).dropna()
    if not pairs or per_seed.empty:
        return ""

    def kept(frame: pd.DataFrame) -> str:
        means = frame.mean()
        broken = [f"{label(a)} < {label(b)}" for a, b in pairs if not means[a] < means[b]]
        return f"{len(pairs) - len(broken)} of them" + (f" (not: {'; '.join(broken)})." if broken else ".")

    text = (f" On every data set of its table the paper ranks {len(pairs)} pairs of these rows the same way; over the "
            f"{len(per_seed)} seed(s) every row here has finished, our means keep {kept(per_seed)}")
    trained = per_seed.drop(index=[s for s in failed_seeds if s in per_seed.index])
    if len(trained) < len(per_seed) and len(trained):
        text += (f" Over the {len(trained)} seed(s) on which every row trained "
                 f"({', '.join(map(str, trained.index))}), they keep {kept(trained)}")
    return text


def describe_ordering(runs: pd.DataFrame, table: str | int = 2, profile: str = "paper", gain_of: str = "focusnet",
                      metric: str = "test_top1") -> str:
    """A plain statement per full-protocol (data set, model): our means beside the paper's,
    whether the paper's ranking of the rows holds, and ``gain_of``'s paired gain over its own
    baseline beside the paper's gain. A data set the paper's table lacks gets our ranking only."""
    ref = paper_rows(table, metric.replace("test_", ""))
    labels = ref.drop_duplicates("method").set_index("method")["label"]
    label = lambda m: labels.get(m, m)  # noqa: E731
    mine = runs[runs["profile"] == profile]
    ours = summarise(mine[~mine["row"].isin(FOCUSNET_VARIANTS)], metric)
    failed = health(runs, profile, metric)
    paired = gains(mine, [gain_of], metric=metric, table=table)
    lines = []
    for (dataset, model), part in ours.groupby(["dataset", "model"], sort=False):
        part = part.set_index("row")
        paper_part = ref[(ref["dataset"] == dataset) & (ref["model"] == model)].set_index("method")
        head = f"- **{dataset} ({model}), {PROFILE_LABEL.get(profile, profile)}**"
        ours_order = list(part["mean"].sort_values().index)
        if paper_part.empty:
            ranking = " < ".join(f"{label(m)} {part.loc[m, 'mean']:.2f} (n={int(part.loc[m, 'n'])})"
                                 for m in ours_order)
            text = f"{head}: the paper's table has no numbers here (our addition). Ours, low to high: {ranking}."
            here = mine[(mine["dataset"] == dataset) & (mine["model"] == model) & mine["row"].isin(part.index)]
            here_bad = failed[(failed["dataset"] == dataset) & (failed["model"] == model)]
            text += _pattern_agreement(here, table, metric, label, set(here_bad["seed"]))
        else:
            order = [m for m in paper_part["value"].sort_values().index if m in part.index]
            if not order:
                continue
            values = "; ".join(f"{label(m)} {part.loc[m, 'mean']:.2f}, n={int(part.loc[m, 'n'])} "
                               f"(paper {paper_part.loc[m, 'value']:.2f})" for m in order)
            ours_order = [m for m in ours_order if m in order]
            holds = ("holds" if ours_order == order else
                     f"does not hold (ours, low to high: {' < '.join(label(m) for m in ours_order)})")
            text = (f"{head}: {values}. The paper's ranking "
                    f"(low to high: {' < '.join(label(m) for m in order)}) {holds}.")
            missing = [label(m) for m in paper_part.index if m not in part.index]
            if missing:
                text += f" Not run yet: {', '.join(missing)}."
        if part["n"].nunique() > 1:
            text += " These means cover different numbers of seeds; the paired gain compares the same seeds."
        here_failed = failed[(failed["dataset"] == dataset) & (failed["model"] == model)
                             & ~failed["row"].isin(FOCUSNET_VARIANTS)]  # variants: reported in their own section
        for _, bad in here_failed.iterrows():
            bad_seeds = here_failed.loc[here_failed["row"] == bad["row"], "seed"]
            trained = mine[(mine["row"] == bad["row"]) & (mine["dataset"] == dataset) & (mine["model"] == model)
                           & ~mine["seed"].isin(bad_seeds)]
            rest = (f"over the seeds that trained it is {trained[metric].mean():.2f} (n={len(trained)})"
                    if len(trained) else "no other seed has finished")
            text += (f" {label(bad['row'])} seed {bad['seed']} did not train: {bad['problem']}; its mean above "
                     f"includes it, {rest}.")
        g = paired[(paired["data set"] == dataset) & (paired["model"] == model)]
        if len(g):
            r = g.iloc[0]
            paper_gain = "" if pd.isna(r["paper gain"]) else f"; the paper's gain: {r['paper gain']:+.2f}"
            text += (f" {label(gain_of)}'s gain over its own baseline, paired by seed: {r['paired gain']}, "
                     f"{r['seeds gaining']} seeds gaining{paper_gain}.")
            per_seed_gain = paired_gains(mine[(mine["dataset"] == dataset) & (mine["model"] == model)], gain_of,
                                         metric=metric)["gain"]
            low, high = t_interval(per_seed_gain)
            if pd.notna(low):
                text += (f" Its 95% confidence interval over seeds (Student t) is [{low:+.2f}, {high:+.2f}]: "
                         f"{gain_verdict(low, high, r['paper gain'], len(per_seed_gain))}.")
        outside = []
        for m in part.index.intersection(paper_part.index) if not paper_part.empty else []:
            values = mine.loc[(mine["row"] == m) & (mine["dataset"] == dataset) & (mine["model"] == model), metric]
            low, high = t_interval(values.dropna())
            if pd.notna(low) and not low <= paper_part.loc[m, "value"] <= high:
                outside.append(f"{label(m)} (ours {low:.2f} to {high:.2f})")
        if outside:
            text += f" The paper's number lies outside our 95% interval of the mean for {'; '.join(outside)}."
        lines.append(text)
    return "\n".join(lines) or "- No full-protocol runs yet."


def describe_variants(runs: pd.DataFrame, profile: str = "paper", metric: str = "test_top1") -> str:
    """A plain statement per post-hoc FocusNet variant and data set: the seeds finished, those
    that did not train, and, over the seeds that trained, the variant's paired gain over its own
    baseline beside the paper's reading of the loss (``focusnet``) on the same seeds."""
    mine = runs[runs["profile"] == profile].dropna(subset=[metric])
    failed = health(runs, profile, metric)
    lines = []
    for variant in FOCUSNET_VARIANTS:
        for (dataset, model), part in mine[mine["row"] == variant].groupby(["dataset", "model"], sort=False):
            bad = failed[(failed["row"] == variant) & (failed["dataset"] == dataset) & (failed["model"] == model)]
            here = mine[(mine["dataset"] == dataset) & (mine["model"] == model) & ~mine["seed"].isin(bad["seed"])]
            v = paired_gains(here, variant, metric=metric)
            r = paired_gains(here[here["seed"].isin(v["seed"])], "focusnet", metric=metric)
            text = f"- **{variant}** (post-hoc), {dataset} ({model}): {len(part)} seed(s) finished"
            for b in bad.itertuples():
                text += f"; seed {b.seed} did not train, {b.problem}"
            if len(v):
                text += (f". Over the {len(v)} seed(s) that trained, its paired gain over its own baseline is "
                         f"{fmt(v['gain'].mean(), v['gain'].std(ddof=1), len(v))} "
                         f"({int((v['gain'] > 0).sum())}/{len(v)} seeds gaining)")
                if len(r):
                    text += (f"; the paper's reading of the loss on the same seeds: "
                             f"{fmt(r['gain'].mean(), r['gain'].std(ddof=1), len(r))}")
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
    groups = runs.dropna(subset=[metric]).groupby(["dataset", "model", "profile"], sort=False)
    for (dataset, model, profile), part in groups:
        full = part[part["row"] == "ce"].set_index("seed")[metric]
        on_stopped = fig4_runs(part, metric).query("row == 'focusnet_on_teacher'")
        stopped = part[part["row"] == "teacher"].set_index(["x", "seed"])[metric]
        on_stopped = on_stopped.assign(
            gain=on_stopped[metric] - on_stopped["seed"].map(full),
            baseline=[stopped.get((x, s_)) for x, s_ in zip(on_stopped["x"], on_stopped["seed"])],
        ).dropna(subset=["gain"])
        if on_stopped.empty:
            continue
        stops = on_stopped.groupby("x").agg(focusnet=(metric, "mean"), gain=("gain", "mean"), n=("gain", "size"),
                                             gaining=("gain", lambda g: int((g > 0).sum())),
                                             baseline=("baseline", "mean"))
        first = stops.iloc[0]
        beats = stops.index[stops["gain"] > 0]
        head = (f"- **{dataset} ({model}), {PROFILE_LABEL.get(profile, profile)}**, fully trained baseline "
                f"{full.mean():.2f} (n={len(full)})")
        k = int(stops.index[0])
        text = (f"{head}: FocusNet on the baseline stopped after {k} epoch{'s' if k != 1 else ''}"
                + (f" (which reaches {first['baseline']:.2f}%)" if pd.notna(first["baseline"]) else "")
                + f" reaches {first['focusnet']:.2f}, {first['gain']:+.2f} points against the fully trained "
                f"baseline of the same seeds ({int(first['gaining'])}/{int(first['n'])} seeds gaining); the paper "
                f"reports FocusNet above its fully trained baseline even on its least accurate baselines "
                f"({paper_low}), which {'holds' if first['gain'] > 0 else 'does not hold'} here"
                + (f"; but our least-trained baseline is far from chance ({chance(dataset):.2f}%), "
                   "so this does not test the paper's near-chance case"
                   if pd.notna(first["baseline"]) and not at_chance(first["baseline"], dataset) else "")
                + ". FocusNet on a "
                f"stopped baseline beats the fully trained baseline at {len(beats)} of {len(stops)} stops"
                + (f" (stopped after {', '.join(str(int(x)) for x in beats)} epoch{'s' if list(beats) != [1] else ''})"
                   if len(beats) else "") + ".")
        text += _fig4_trend(stops)
        top5 = part[part["row"] == "teacher"].groupby("x")["test_top5"].mean().dropna() if "test_top5" in part else []
        if len(top5):
            text += (" The paper argues that the confusing classes a baseline picks are credible as far as its top-k "
                     f"accuracy, not its top-1, is high: our stopped baselines' mean test top-5 "
                     f"is {top5.min():.2f}% to {top5.max():.2f}% across the stops.")
        on_full = part[part["row"] == "focusnet"].set_index("seed")[metric]  # FocusNet on the fully trained baseline
        ran = on_stopped[on_stopped["trained"]]
        vs = (ran[metric] - ran["seed"].map(on_full)).dropna()
        if len(vs):
            text += (" Against FocusNet on the fully trained baseline of the same seed, FocusNet on a stopped "
                     f"baseline is higher in {int((vs > 0).sum())} of {len(vs)} pairs of runs that trained "
                     f"(mean {vs.mean():+.2f} points).")
        failed = on_stopped[~on_stopped["trained"]]
        if len(failed):
            named = ", ".join(_run_name(r.row, int(r.seed), r.x) for r in failed.itertuples())
            trained = ran.groupby("x").agg(focusnet=(metric, "mean"), baseline=("baseline", "mean"))
            trend = _fig4_trend(trained, quote=False) or " too few stops for a trend."
            text += (f" {len(failed)} FocusNet run{'s' if len(failed) > 1 else ''} did not train ({named}); without "
                     f"{'them' if len(failed) > 1 else 'it'}:{trend}")
        if stops["n"].nunique() > 1:
            text += " The stops cover different numbers of seeds so far."
        lines.append(text)
    return "\n".join(lines) or "- No Fig. 4 runs yet."


def _fig4_trend(stops: pd.DataFrame, quote: bool = True) -> str:
    """Whether FocusNet's mean accuracy per stop (``focusnet``) rises with the stopped baselines'
    (``baseline``, over the same seeds): Kendall's τ and its two-sided p (exact for a few stops
    without ties), a trend only when p < 0.05; empty with fewer than 3 stops. ``quote`` adds the
    paper's claim."""
    ranked = stops.dropna(subset=["baseline", "focusnet"])
    if len(ranked) < 3:
        return ""
    tau, p = stats.kendalltau(ranked["baseline"], ranked["focusnet"])
    trend = ("rises" if tau > 0 else "falls") if p < 0.05 else "shows no significant trend"
    claim = "; the paper: it \"generally improves as the accuracy of the baseline network increases\"" if quote else ""
    return (f" Across the {len(ranked)} stops FocusNet's accuracy {trend} with its baseline's "
            f"(Kendall τ = {tau:+.2f}, p = {p:.2f}{claim}), from {ranked['focusnet'].min():.2f} to "
            f"{ranked['focusnet'].max():.2f}.")


def failure_rates(runs: pd.Series, failed: pd.Series) -> str:
    """How sure the failure counts are: the pooled failure rate with its exact (Clopper-Pearson)
    95% interval and, with several rows, Fisher's exact test of the row failing most often against
    all the others together (``runs``/``failed``: counts per row, same index)."""
    k, n = int(failed.sum()), int(runs.sum())
    ci = stats.binomtest(k, n).proportion_ci(method="exact")
    text = f" Failure rate {k / n:.0%} (exact 95% interval {ci.low:.0%} to {ci.high:.0%})."
    if len(runs) > 1:
        worst = failed.idxmax()
        a, b = int(failed[worst]), int(runs[worst])
        c, d = k - a, n - b
        p = stats.fisher_exact([[a, b - a], [c, d - c]]).pvalue
        verdict = ("too few runs to say that the rows fail at different rates" if p >= 0.05 else
                   "unlikely under one failure rate common to all rows")
        text += (f" {worst} ({a} of {b}) against the other rows ({c} of {d}): "
                 f"Fisher's exact test p = {p:.2f}, {verdict}.")
    return text


def _run_name(row: str, seed: int, x: float = float("nan")) -> str:
    """``row seed s``, with Fig. 4's stop when the run has one."""
    stop = f" on the {int(x)}-epoch baseline" if pd.notna(x) and row == "focusnet_on_teacher" else ""
    return f"{row} seed {seed}{stop}"


def _recovered(curve: pd.DataFrame, dataset: str, failed_runs: Collection[str], metric: str) -> str:
    """The runs of ``curve`` (one data set) that trained although they were at chance after their
    first epoch, each with the first epoch after which it was no longer at chance (``failed_runs``:
    the folder names of the runs that did not train)."""
    found = []
    evaluated = curve.dropna(subset=[metric]).sort_values("epoch")
    for run, c in evaluated.groupby("run", sort=False):
        low = c[metric].map(lambda v: at_chance(v, dataset))
        if run in failed_runs or c["epoch"].iloc[0] != 1 or not low.iloc[0] or low.all():
            continue
        first = c.iloc[0]
        found.append(f"{_run_name(first['row'], first['seed'], first['x'])} "
                     f"(left chance after epoch {c['epoch'][~low].iloc[0]})")
    if not found:
        return ""
    return (f" Being at chance after the first epoch does not seal a run: {len(found)} run(s) that trained were "
            f"at chance then too: {'; '.join(found)}.")


def _first_steps(traces: pd.DataFrame) -> str:
    """What the replayed first steps of one (data set, model) show: per ReLU layer, the units
    inactive on the batch of the last replayed step in the runs that did not train against those
    that did, and the same for the largest gradient norm over the replayed steps."""
    if traces.empty or traces["trained"].all():
        return ""
    n_steps = int(traces["step"].max())
    last = traces[traces["step"] == n_steps]
    peaks = traces.groupby("run", sort=False).agg(peak=("grad_norm", "max"), trained=("trained", "first"))

    def compare(bad: pd.Series, good: pd.Series, f: str) -> str:
        text = f"{bad.min():{f}}–{bad.max():{f}}" if bad.min() != bad.max() else f"{bad.min():{f}}"
        return text + (f" against {good.median():{f}} ({good.min():{f}}–{good.max():{f}})" if len(good) else "")

    layers = [c for c in traces if c.startswith(INACTIVE)]
    per_layer = "; ".join(
        f"{c.removeprefix('inactive ')}: {compare(last.loc[~last['trained'], c], last.loc[last['trained'], c], 'g')}"
        for c in layers
    )
    bad_peak, good_peak = peaks.loc[~peaks["trained"], "peak"], peaks.loc[peaks["trained"], "peak"]
    text = (f" The first {n_steps} steps, replayed exactly ({len(peaks)} runs, {len(bad_peak)} of them did not train). "
            f"Units inactive on the batch of step {n_steps}, in the runs that did not train against those that trained "
            f"(median, range): {per_layer}. "
            f"Largest gradient norm over these steps: {compare(bad_peak, good_peak, '.1f')}")
    if len(good_peak) and bad_peak.max() <= good_peak.max():
        text += ": the runs that did not train had no larger gradients than some runs that trained"
    return text + "."


def describe_health(runs: pd.DataFrame, profile: str = "paper", metric: str = "test_top1") -> str:
    """A plain statement per (data set, model) of how often the recipe failed: the finished runs
    of ``profile`` that did not train, per row, whether each was already at chance after its
    first epoch, every row's mean train accuracy over that epoch, and what the stability probes
    (:data:`~focuslib.experiments.PROBES`) reached."""
    mine = runs[runs["profile"] == profile].dropna(subset=[metric])
    failed = health(runs, profile, metric)
    curve = curves(runs, profile)
    probes = stability_probes(runs, profile=profile, metric=metric)
    fixes = remedies(runs, profile=profile, metric=metric)
    traces = step_traces(runs, profile)
    lines = []
    for (dataset, model), part in mine.groupby(["dataset", "model"], sort=False):
        bad = failed[(failed["dataset"] == dataset) & (failed["model"] == model)]
        head = f"- **{dataset} ({model}), {PROFILE_LABEL.get(profile, profile)}**"
        if bad.empty:
            lines.append(f"{head}: every one of the {len(part)} finished runs trained.")
            continue
        counts = part.groupby("row", sort=False).size()
        failing = bad.groupby("row", sort=False).size()
        per_row = "; ".join(f"{row} {failing.get(row, 0)} of {n}" for row, n in counts.items())
        text = f"{head}: {len(bad)} of {len(part)} finished runs did not train ({per_row})."
        text += failure_rates(counts, failing.reindex(counts.index, fill_value=0))
        epoch1 = curve[(curve["epoch"] == 1) & (curve["dataset"] == dataset) & (curve["model"] == model)]
        epoch1 = epoch1.set_index("run")
        failed_runs = list(bad["run"])
        early = [pd.notna(v) and at_chance(v, dataset)
                 for v in (epoch1[metric].get(k, float("nan")) for k in failed_runs)]
        text += (" Each was already at chance after its first epoch." if all(early) else
                 f" {sum(early)} of them were at chance after their first epoch.")
        here = curve[(curve["dataset"] == dataset) & (curve["model"] == model)]
        text += _recovered(here, dataset, failed_runs, metric)
        text += _first_steps(traces[(traces["dataset"] == dataset) & (traces["model"] == model)]
                             if len(traces) else traces)
        if "train_top1" in epoch1:
            trained = epoch1.drop(index=failed_runs, errors="ignore")
            means = trained.groupby("row", sort=False)["train_top1"].mean().dropna()
            text += (" Mean train accuracy over the first epoch of the runs that did train, per row: "
                     + "; ".join(f"{row} {v:.1f}%" for row, v in means.items()) + ".")
        done = probes[(probes["dataset"] == dataset) & (probes["model"] == model)].dropna(subset=["final"])
        for probe in PROBES:
            at = done[(done["lr"] == probe.lr) & (done["warm-up epochs"] == probe.warmup_epochs)]
            if not at.empty:
                values = ", ".join(f"{v:.2f}" for v in at["final"])
                text += (f" Probed for {PROBE_EPOCHS} epochs at {probe.describe()}: {values}% "
                         f"({len(at)} of {len(bad)} probed).")
        fixed = fixes[(fixes["dataset"] == dataset) & (fixes["model"] == model)].dropna(subset=["remedy final"])
        if len(fixed):
            text += (f" Trained again with the whole recipe after a {int(fixed['warm-up epochs'].iloc[0])}-epoch "
                     f"linear lr warm-up (a remedy chosen after seeing the failures, never a result): "
                     + "; ".join(f"{row} seed {seed} {final:.2f}% (its baseline {base:.2f}%)" for row, seed, final, base
                                 in zip(fixed["row"], fixed["seed"], fixed["remedy final"], fixed["its baseline"]))
                     + f" ({len(fixed)} of {len(bad)} failed runs so far).")
        lines.append(text)
    return "\n".join(lines) or "- No finished runs yet."


def describe_provenance(frame: pd.DataFrame) -> str:
    """A plain statement of which code trained the runs of :func:`~focuslib.report.evidence.provenance`:
    how many code versions, how many records reach back to epoch 1, which runs list uncommitted
    code, and what the full replays by committed code found."""
    if frame.empty:
        return "No full-protocol runs yet."
    n = len(frame)
    versions = {v for vs in frame["code versions"] for v in vs.split(", ")}
    text = (f"{n} finished runs, trained by {len(versions)} code versions; {int(frame['from epoch 1'].sum())} of them "
            f"record every process that trained them, back to epoch 1 (the others only their last process).")
    dirty = frame[frame["uncommitted code"]]
    if dirty.empty:
        return text + " None lists uncommitted code."
    # edited code proves nothing
    by_committed = (dirty["replayed by"] != "—") & ~dirty["replayed by"].str.endswith(".dirty")
    replayed = (dirty["replay"] == "identical") & by_committed
    differs = (dirty["replay"] == "differs") & by_committed
    named = [run if base == "—" else f"{run} (on {base})" for run, base in zip(dirty["run"], dirty["baseline"])]
    text += (f" {len(dirty)} list uncommitted code (a version ending in .dirty): {'; '.join(named)}."
             f" A full replay by committed code reproduced {int(replayed.sum())} of them at every epoch")
    text += f"; {int(differs.sum())} differ" if differs.any() else ""
    left = len(dirty) - int(replayed.sum()) - int(differs.sum())
    return text + (f"; {left} not replayed by committed code yet." if left else ".")
