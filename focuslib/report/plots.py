"""Figures with seaborn and matplotlib: test curves per seed, FocusNet's gain by epoch, the
replayed first steps, Fig. 4, the pre-registered decisions and the status grid."""

from __future__ import annotations

import pandas as pd

from ..experiments import FOCUSNET_VARIANTS
from .evidence import INACTIVE, trained
from .tables import CELL_STATES, FIG4_SERIES, PROFILE_LABEL, fig4_frame, fig4_runs, paired_gains, summarise


def plot_curves(curve: pd.DataFrame, metric: str = "test_top1", profile: str = "paper"):
    """Test accuracy per epoch, one line per (method, seed), per data set two panels: every run on
    the full 0-100 % scale (a run that did not train included), then a zoom on the runs that
    trained (final accuracy above :func:`~focuslib.report.evidence.at_chance`), where rows differ
    by tenths of a point. Post-hoc variants say so in the legend; the title names the ``profile``
    the runs of ``curve`` (:func:`~focuslib.report.evidence.curves`) were read for."""
    import matplotlib.pyplot as plt  # noqa: PLC0415
    import seaborn as sns  # noqa: PLC0415

    if curve.empty:
        return None
    data = curve.dropna(subset=[metric])
    data = data.assign(row=[r + " (post-hoc)" if r in FOCUSNET_VARIANTS else r for r in data["row"]])
    final = data.sort_values("epoch").groupby("run").tail(1)
    failed = set(final.loc[~trained(final, metric), "run"])
    panels = sorted(data["dataset"].unique())
    fig, axes = plt.subplots(1, 2 * len(panels), figsize=(11 * len(panels), 3.8), squeeze=False)
    for i, dataset in enumerate(panels):
        part = data[data["dataset"] == dataset]
        ran = part[~part["run"].isin(failed)]
        order = list(dict.fromkeys(part["row"]))
        left, zoom = axes[0][2 * i], axes[0][2 * i + 1]
        sns.lineplot(data=part, x="epoch", y=metric, hue="row", hue_order=order, units="run", estimator=None,
                     lw=0.8, ax=left, legend=False)
        n_failed = part.loc[part["run"].isin(failed), "run"].nunique()
        left.set(title=f"{dataset}: every run, {PROFILE_LABEL.get(profile, profile)}"
                       + (f" ({n_failed} did not train)" if n_failed else ""), ylabel="test top-1 (%)", ylim=(0, 100))
        if ran.empty:
            zoom.set_axis_off()
            continue
        sns.lineplot(data=ran, x="epoch", y=metric, hue="row", hue_order=order, units="run", estimator=None,
                     lw=0.8, ax=zoom)
        late = ran[ran["epoch"] > ran["epoch"].max() * 0.05]
        low = (late if len(late) else ran).groupby("row")[metric].quantile(0.02).min()
        zoom.set(title=f"{dataset}: zoom on the {ran['run'].nunique()} runs that trained", ylabel="test top-1 (%)",
                 ylim=(low, ran[metric].max() + 0.1 * (ran[metric].max() - low)))
        zoom.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def plot_gain_curve(gains: pd.DataFrame, method: str = "focusnet"):
    """The per-epoch paired gain (:func:`~focuslib.report.evidence.gain_curve`) over the seeds where
    both runs trained: each seed faint, the mean over seeds bold, zero dashed; the legend (below the
    panel) counts the seeds left out because a run did not train. The y axis spans the 2nd to 98th
    percentile of the points (and 0); how many lie beyond it is written in the panel."""
    import matplotlib.pyplot as plt  # noqa: PLC0415
    import seaborn as sns  # noqa: PLC0415

    if gains.empty:
        return None
    panels = list(gains.groupby(["dataset", "model"], sort=False))
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 3.4), squeeze=False)
    for ax, ((dataset, model), every) in zip(axes[0], panels):
        part = every[every["both trained"]]
        left = every["seed"].nunique() - part["seed"].nunique()
        sns.lineplot(data=part, x="epoch", y="gain", units="seed", estimator=None, lw=0.6, alpha=0.4, ax=ax,
                     color="tab:gray")
        sns.lineplot(data=part, x="epoch", y="gain", errorbar=None, lw=1.8, color="tab:red", ax=ax,
                     label=f"mean over {part['seed'].nunique()} seed(s) where both trained"
                           + (f" ({left} left out: a run did not train)" if left else ""))
        ax.axhline(0, ls="--", color="black", lw=0.8)
        ax.set(title=f"{dataset} ({model}): {method} − baseline, same seed", ylabel="test top-1 gain (points)")
        lo, hi = part["gain"].quantile(0.02), part["gain"].quantile(0.98)
        pad = 0.15 * max(hi - lo, 0.1)
        bottom, top = min(lo, 0) - pad, max(hi, 0) + pad
        ax.set_ylim(bottom, top)  # a few swings (e.g. an epoch-1 outlier) would hide the rest
        off = part[(part["gain"] < bottom) | (part["gain"] > top)]
        if len(off):
            first, last = int(off["epoch"].min()), int(off["epoch"].max())
            when = f"epoch {first}" if first == last else f"epochs {first}-{last}"
            ax.text(0.01, 0.02, f"{len(off)} seed-epoch point(s) beyond the axis ({when})", transform=ax.transAxes,
                    fontsize=7, color="dimgray")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def plot_step_traces(traces: pd.DataFrame):
    """The replayed first steps (:func:`~focuslib.report.evidence.step_traces`), one column per
    (data set, model): the gradient norm (log scale), then per ReLU layer that lost any unit the
    units inactive on each step's batch; one line per run, the runs that did not train in red."""
    import matplotlib.pyplot as plt  # noqa: PLC0415
    import seaborn as sns  # noqa: PLC0415

    if traces.empty:
        return None
    layers = [c for c in traces if c.startswith(INACTIVE) and traces[c].max() > 0]
    panels = list(traces.groupby(["dataset", "model"], sort=False))
    fig, axes = plt.subplots(1 + len(layers), len(panels), figsize=(6 * len(panels), 2.2 * (1 + len(layers))),
                             squeeze=False, sharex="col")
    palette = {"trained": "tab:gray", "did not train": "tab:red"}
    for col, ((dataset, model), part) in enumerate(panels):
        part = part.assign(run=part["row"] + " s" + part["seed"].astype(str),
                           outcome=part["trained"].map({True: "trained", False: "did not train"}))
        for ax, y in zip(axes[:, col], ["grad_norm", *layers]):
            sns.lineplot(data=part, x="step", y=y, hue="outcome", units="run", estimator=None, lw=0.7,
                         palette=palette, ax=ax, legend=ax is axes[0, col])
            ax.set(ylabel=f"units {y.removeprefix('inactive ')}\ninactive" if y in layers else "gradient norm")
        axes[0, col].set(yscale="log", title=f"{dataset} ({model}): first steps, replayed")
    fig.tight_layout()
    return fig


def fig4_plot(runs: pd.DataFrame, metric: str = "test_top1"):
    """Fig. 4 with seaborn: one panel per (data set, profile); every run a faint dot, the line
    the mean of the runs that trained (:func:`~focuslib.report.tables.fig4_frame`); a FocusNet
    run that did not train is a red triangle on the lower edge with its accuracy in the legend,
    so that it neither hides nor flattens the others. Dashed/solid lines mark the full-length
    baseline and FocusNet, as in the paper, over the seeds of the Fig. 4 runs where they trained. A
    stop at 0 epochs (the untrained network: our addition) is labelled as such. Below each panel, a
    zoom on FocusNet's runs that trained and the two full-length lines, which the stopped baselines'
    range (down to chance) would otherwise press together."""
    import matplotlib.pyplot as plt  # noqa: PLC0415
    import seaborn as sns  # noqa: PLC0415

    points, each = fig4_frame(runs, metric), fig4_runs(runs, metric).rename(columns={"x": "baseline epochs"})
    ends = runs[runs["row"].isin(["ce", "focusnet"])].dropna(subset=[metric])
    ends = ends[trained(ends, metric)]
    panels = points.groupby(["dataset", "profile"], sort=False)
    fig, axes = plt.subplots(2, max(1, panels.ngroups), figsize=(5 * max(1, panels.ngroups), 6.4), squeeze=False,
                             height_ratios=(3.6, 2.4))
    for ax, zoom, ((dataset, profile), part) in zip(axes[0], axes[1], panels):
        mine = each[(each["dataset"] == dataset) & (each["profile"] == profile)]
        ran, failed = mine[mine["trained"]], mine[~mine["trained"]]
        sns.lineplot(data=part, x="baseline epochs", y="mean of runs that trained", hue="series",
                     hue_order=list(FIG4_SERIES.values()), marker="o", ax=ax)
        sns.scatterplot(data=ran, x="baseline epochs", y=metric, hue="series", hue_order=list(FIG4_SERIES.values()),
                        alpha=0.35, s=14, legend=False, ax=ax)
        seeds = set(mine.loc[mine["row"] == "focusnet_on_teacher", "seed"])  # the seeds of this panel's FocusNet runs
        full = summarise(ends[(ends["dataset"] == dataset) & (ends["profile"] == profile) & ends["seed"].isin(seeds)],
                         metric)
        for _, r in full.iterrows():
            style, color = ("--", "tab:blue") if r["row"] == "ce" else ("-", "tab:red")
            label = f"{'baseline' if r['row'] == 'ce' else 'FocusNet'} at {int(r['epochs'])} epochs (same seeds)"
            ax.axhline(r["mean"], ls=style, color=color, lw=1, label=label)
        if (part["baseline epochs"] == 0).any():
            ax.annotate("0 epochs: untrained\nbranch (our addition)", (0, 0), xycoords=("data", "axes fraction"),
                        xytext=(3, 4), textcoords="offset points", fontsize=7, color="dimgray")
        if len(failed):
            low = min(ran[metric].min(), ax.get_ylim()[0])
            ax.set_ylim(bottom=low - 0.5)
            ax.scatter(failed["baseline epochs"], [low - 0.5] * len(failed), marker="v", s=40, color="tab:red",
                       clip_on=False, zorder=3,
                       label=f"FocusNet did not train ({', '.join(f'{v:.2f}' for v in failed[metric])}%), "
                             f"not in the line")
        n = part["n"]
        seeds = f"{n.max()} seed(s)" if n.min() == n.max() else f"{n.min()}–{n.max()} seeds per point"
        ax.set(title=f"{dataset} — {PROFILE_LABEL.get(profile, profile)}, {seeds}", ylabel="test top-1 (%)")
        ax.legend(fontsize=7)
        focus = part[part["row"] == "focusnet_on_teacher"]
        near = ran[ran["row"] == "focusnet_on_teacher"]
        sns.lineplot(data=focus, x="baseline epochs", y="mean of runs that trained", marker="o", color="tab:orange",
                     ax=zoom)
        zoom.scatter(near["baseline epochs"], near[metric], color="tab:orange", alpha=0.35, s=14)
        for _, r in full.iterrows():
            zoom.axhline(r["mean"], ls="--" if r["row"] == "ce" else "-", color="tab:blue" if r["row"] == "ce"
                         else "tab:red", lw=1)
        values = pd.concat([near[metric], full["mean"]])
        pad = 0.1 * max(values.max() - values.min(), 0.2)
        zoom.set(ylim=(values.min() - pad, values.max() + pad), ylabel="test top-1 (%)",
                 title=f"zoom: FocusNet's runs that trained and the full-length lines ({dataset})")
        zoom.title.set_fontsize(8)
    fig.tight_layout()
    return fig


def plot_decisions(runs: pd.DataFrame, frame: pd.DataFrame, baseline: str = "ce", metric: str = "test_top1",
                   title: str | None = None):
    """The pre-registered analysis in one picture (:mod:`~focuslib.report.decision`): each seed's
    paired gain over the baseline of the same seed as a dot (seeds where both trained), the
    95 % interval of the mean as a bar, the paper's gain as a red tick, 0 as a line; a row reported
    apart (``post hoc``) says so in its label. ``title``: e.g.
    :meth:`~focuslib.report.decision.Preregistration.reading` (interim or decided, at how many seeds)."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    if frame.empty:
        return None
    ok = runs[trained(runs, metric)]
    fig, ax = plt.subplots(figsize=(7.5, 1.6 + 0.7 * len(frame)))
    seen: set[str] = set()

    def once(label: str) -> str | None:  # each legend entry once, from whichever row draws it first
        return None if label in seen else seen.add(label) or label

    for i, (_, r) in enumerate(frame.iterrows()):
        pg = paired_gains(ok, r["row"], baseline, metric)
        same = (pg["dataset"] == r["dataset"]) & (pg["model"] == r["model"]) & (pg["profile"] == r["profile"])
        gains = pg[same]["gain"]
        ax.scatter(gains, [i] * len(gains), color="tab:blue", alpha=0.6, s=18, zorder=3,
                   label=once("one seed"))
        if r["pairs"] >= 2:
            ax.plot([r["gain 95% low"], r["gain 95% high"]], [i, i], color="black", lw=2.5,
                    label=once("95% interval of the mean"))
        if pd.notna(r["paper gain"]):
            ax.plot([r["paper gain"]], [i], marker="|", color="tab:red", ms=18, mew=2.5,
                    label=once("the paper's gain"))
    ax.axvline(0, color="gray", lw=1)
    ax.set_yticks(range(len(frame)), [f"{r['row']} ({r['dataset']}, n={r['pairs']}"
                                      f"{', post-hoc' if r.get('post hoc', False) else ''})"
                                      for _, r in frame.iterrows()])
    ax.set_ylim(len(frame) - 0.4, -0.6)  # the frame's first row on top
    ax.set_xlabel(f"gain over the {baseline} run of the same seed (test top-1 points)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize="small", frameon=False)
    if title:
        fig.suptitle(title, fontsize="medium")
    fig.tight_layout()
    return fig


#: One colour per :data:`~focuslib.report.tables.CELL_STATES` (colour-blind safe: Okabe-Ito).
STATE_COLOURS = {"reproduced": "#009E73", "not reproduced": "#D55E00", "a run did not train": "#E69F00",
                 "partial": "#56B4E9", "untested": "#DDDDDD"}


def plot_status_grid(grid: pd.DataFrame):
    """The paper's cells (:func:`~focuslib.report.tables.status_grid`) as a grid coloured by
    state, one row per (table, method, model), one column per data set; white where the paper
    has no cell. The legend counts the cells in each state."""
    import matplotlib.pyplot as plt  # noqa: PLC0415
    from matplotlib.colors import ListedColormap  # noqa: PLC0415
    from matplotlib.patches import Patch  # noqa: PLC0415

    codes = grid.apply(lambda col: col.map({s: i for i, s in enumerate(CELL_STATES)})).astype(float)
    fig, ax = plt.subplots(figsize=(1.1 * grid.shape[1] + 3.5, 0.24 * grid.shape[0] + 1.6))
    ax.imshow(codes.to_numpy(), cmap=ListedColormap([STATE_COLOURS[s] for s in CELL_STATES]), vmin=-0.5,
              vmax=len(CELL_STATES) - 0.5, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(grid.shape[1]), grid.columns, rotation=30, ha="left", rotation_mode="anchor")  # labels on top
    ax.set_yticks(range(grid.shape[0]), grid.index, fontsize=8)
    ax.set_xticks([x - 0.5 for x in range(1, grid.shape[1])], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, grid.shape[0])], minor=True)
    ax.grid(which="minor", color="white", lw=1.5)
    ax.tick_params(which="minor", length=0)
    ax.xaxis.tick_top()
    counts = grid.stack().value_counts()
    ax.legend(handles=[Patch(color=STATE_COLOURS[s], label=f"{s} ({counts.get(s, 0)})") for s in CELL_STATES],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize="small", title="paper cells")
    fig.tight_layout()
    return fig
