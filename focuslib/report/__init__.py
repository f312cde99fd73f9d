"""Tables, statements and figures of the book: the paper's number beside ours, with profile,
seeds and epochs on every row.

- :mod:`~focuslib.report.tables`: summaries over seeds, paired gains, paper-vs-ours tables, status;
- :mod:`~focuslib.report.evidence`: per-run evidence (curves, runs that did not train, dead units, first
  steps, probes, the code that trained each run);
- :mod:`~focuslib.report.facts`: the statistics behind every statement, as data;
- :mod:`~focuslib.report.statements`: plain statements of how ours compares, templates over those facts;
- :mod:`~focuslib.report.plots`: the figures;
- :mod:`~focuslib.report.beyond`: one-stage FocusNet, our addition (``report.beyond.accuracy``, ``.cost``).
- :mod:`~focuslib.report.findings`: one row per claim of the paper with its evidence and verdict.

Notebooks call everything as ``report.<name>``. The report only reads the store: running an
artefact's runs is :mod:`focuslib.artefact`'s.
"""

from ..experiments import FOCUSNET_VARIANTS
from . import beyond, decision
from .decision import interval_facts
from .evidence import (
    best_on_test,
    curves,
    dead_units,
    first_epoch,
    gain_curve,
    health,
    provenance,
    provenance_exceptions,
    remedies,
    sources,
    stability_probes,
    step_traces,
)
from .facts import (
    failure_test,
    fig4_facts,
    fig4_trend,
    first_steps,
    health_facts,
    orderings,
    pair_agreement,
    paper_pairs,
    profile_differences,
    provenance_counts,
    variant_gains,
)
from .findings import (
    VERDICTS,
    claim_parts,
    claims,
    findings_html,
    findings_table,
    glue_findings,
    headline,
    verdict_rule,
)
from .plots import fig4_plot, plot_curves, plot_decisions, plot_gain_curve, plot_status_grid, plot_step_traces
from .statements import (
    describe,
    describe_fig4,
    describe_health,
    describe_ordering,
    describe_provenance,
    describe_variants,
    gain_verdict,
)
from .tables import (
    CELL_STATES,
    PAPER_ROW,
    PROFILE_LABEL,
    beside_paper,
    by_run,
    cell_state,
    compare,
    fig4_frame,
    fig4_runs,
    fmt,
    full_protocol_plan,
    full_protocol_results,
    gains,
    gains_over,
    paired_gains,
    paper_pivot,
    paper_rows,
    per_seed,
    pipeline_check,
    protocol_beside_paper,
    sources_block,
    status,
    status_grid,
    status_view,
    still_to_run_block,
    styled,
    summarise,
    t_interval,
)

__all__ = [
    "VERDICTS", "claim_parts", "claims", "findings_html", "findings_table", "glue_findings", "headline", "verdict_rule",
    "beside_paper", "by_run", "pipeline_check", "protocol_beside_paper",
    "sources", "sources_block", "still_to_run_block",
    "FOCUSNET_VARIANTS", "PAPER_ROW", "PROFILE_LABEL", "best_on_test", "beyond", "decision", "plot_decisions",
    "compare", "curves", "dead_units", "describe", "describe_fig4", "describe_health", "describe_ordering",
    "describe_provenance", "describe_variants", "fig4_frame", "fig4_plot", "fig4_runs", "first_epoch", "fmt",
    "full_protocol_plan", "full_protocol_results",
    "gain_curve", "gain_verdict", "gains", "gains_over", "health", "paired_gains", "paper_pivot",
    "paper_rows", "per_seed", "plot_curves", "plot_gain_curve", "plot_status_grid", "plot_step_traces", "provenance",
    "provenance_exceptions", "remedies", "stability_probes",
    "CELL_STATES", "cell_state", "status", "status_grid", "status_view",
    "step_traces", "styled", "summarise", "t_interval",
    "failure_test", "fig4_facts", "fig4_trend", "first_steps", "health_facts", "interval_facts", "orderings",
    "pair_agreement", "paper_pairs", "profile_differences", "provenance_counts", "variant_gains",
]
