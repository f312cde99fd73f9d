"""Tables, statements and figures of the book: the paper's number beside ours, with profile,
seeds and epochs on every row.

- :mod:`~focuslib.report.tables`: summaries over seeds, paired gains, paper-vs-ours tables, status;
- :mod:`~focuslib.report.evidence`: per-run evidence (curves, runs that did not train, dead units, first
  steps, probes, the code that trained each run);
- :mod:`~focuslib.report.statements`: plain statements of how ours compares, generated from the runs;
- :mod:`~focuslib.report.plots`: the figures.

Notebooks call everything as ``report.<name>``.
"""

from ..experiments import FOCUSNET_VARIANTS
from .plots import fig4_plot, plot_curves, plot_gain_curve, plot_step_traces
from .evidence import (best_on_test, curves, dead_units, first_epoch, gain_curve, health, provenance, remedies,
                       stability_probes, step_traces)
from .statements import (describe, describe_fig4, describe_health, describe_ordering, describe_provenance,
                         describe_variants, gain_verdict)
from .tables import (PAPER_ROW, PROFILE_LABEL, compare, fig4_frame, fig4_runs, fmt, full_protocol_results, gains, paired_gains,
                     paper_pivot, paper_rows, per_seed, reproduce, status, styled, summarise, t_interval)

__all__ = [
    "FOCUSNET_VARIANTS", "PAPER_ROW", "PROFILE_LABEL", "best_on_test", "compare", "curves", "dead_units", "describe",
    "describe_fig4", "describe_health", "describe_ordering", "describe_provenance", "describe_variants", "fig4_frame", "fig4_plot", "fig4_runs",
    "first_epoch", "fmt",
    "full_protocol_results", "gain_curve", "gain_verdict", "gains", "health", "paired_gains", "paper_pivot",
    "paper_rows", "per_seed", "plot_curves", "plot_gain_curve", "plot_step_traces", "provenance", "remedies", "reproduce",
    "stability_probes",
    "status", "step_traces", "styled", "summarise", "t_interval",
]
