# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Table 2 — FocusNet against the baseline and DropMax
#
# Top-1 test accuracy of the baseline (cross-entropy), DropMax and FocusNet; LeNet-5 on MNIST, ResNet-18 elsewhere. FocusNet trains on the multi-warm labels and re-weighted probabilities of the frozen baseline of the same seed.
#
# The table puts the paper's number beside ours. Ours is the mean ± standard deviation of the
# **final-epoch** test accuracy over the seeds whose run trained (n = their number); "+ k did not
# train" counts the runs that ended at chance, left out of the mean and named below. The table
# holds *full protocol* rows only (committed runs of the paper's recipe); *smoke* rows, quick
# stand-in runs that are never a reproduction, are in the pipeline check below it.
#
# **Names on this page.** `ce`: the baseline (cross-entropy). `focusnet`: FocusNet as this book
# reads the paper (Eq. 4-12). `lcls+rent`: Table 10's ablation, FocusNet's loss without R_att
# (L_cls + R_ent; its runs are listed on the Table 10 page). Post-hoc variants, chosen after seeing
# test accuracy and always reported apart: `focusnet[d_attached]` (the official code's gradient
# through d), `focusnet[official_labels]` (the official code's warm labels and label smoothing 0.1)
# and, on CIFAR-10, `focusnet[official]` (those three choices together).

# %% tags=["parameters"]
profile = None  # None: "smoke" on the embedded digits data, else "paper" (see params/*.yaml)
dataset = None  # a data set name or a list of them; None: the profile's
seeds = None
epochs = None  # None: the profile's (paper: the paper's schedule)
batch_size = None
train_limit = None
test_limit = None
dataset_kwargs = None
data_root = None
results_dir = None
device = None
methods = None
variants = None  # post-hoc FocusNet loss variants: a list, or {data set: list}; None: the profile's
model = None

# %%
from focuslib.notebook import accept_parameters
from focuslib import artefact, report

P = accept_parameters(globals())
runs, table = artefact.reproduce("table2", P, data_root=data_root, results_dir=results_dir, device=device)

# %% [markdown]
# The paper's Table 2, as typed in `focuslib.paper`:

# %%
report.paper_pivot(2)

# %% [markdown]
# Ours beside the paper's, full protocol only (a smoke stand-in run is never put beside the paper's numbers: see the pipeline check below the table):

# %%
report.styled(report.beside_paper(2, table))

# %%
from IPython.display import HTML, Markdown

HTML(report.still_to_run_block(artefact.still_to_run("table2")) + report.sources_block(runs) + report.pipeline_check(table))

# %% tags=["remove-cell"]
# NBVAL_CHECK_OUTPUT
print(table[["method", "data set", "model", "paper", "ours", "profile", "epochs"]].to_string(index=False, na_rep="—"))

# %% [markdown]
# ## CIFAR-10, reduced protocol on CPU (our addition)
#
# The paper's networks for CIFAR-10 need a GPU; this block is a second data set for the verdict
# that one CPU can train: He et al.'s ResNet-20 (0.27 M parameters, not the paper's ResNet-18)
# with the paper's recipe and the schedule scaled from 200 to 30 epochs (lr/10 at epochs 15 and
# 22; `params/reduced.yaml`), on the shared JPEG-recompressed copy of CIFAR-10 (with the official
# download the runs get other keys and never mix). It is **not the paper's protocol**: the paper's
# numbers stand beside ours only to show what the paper claims for this data set; the difference
# of the two is not computed. The runs, the statistic and the rule were pre-registered before the
# first run ([pre-registration](../book/preregistration.md)): FocusNet's paired gain over the
# baseline of the same seed against the paper's +2.43 points; the official code's settings
# (`focusnet[official]`) are a post-hoc row reported apart.

# %%
reduced = report.decision.CIFAR10_REDUCED
reduced_runs = reduced.runs(results_dir=results_dir)
report.styled(report.protocol_beside_paper(2, reduced_runs, reduced.profile))

# %%
Markdown(report.decision.describe_preregistration(reduced, reduced_runs))

# %% [markdown]
# Each seed's pair (both runs trained) and its gain; in the picture, each seed's gain as a dot, the
# 95 % interval of the mean as a bar and the paper's gain as a red tick.

# %%
report.styled(reduced.pairs(reduced_runs))

# %%
fig = report.plot_decisions(reduced_runs, reduced.decide(reduced_runs), title=reduced.reading(reduced_runs))

# %% [markdown]
# Every seed's test curve under the reduced protocol:

# %%
fig = report.plot_curves(report.curves(reduced_runs, profile=reduced.profile), profile=reduced.profile)

# %% [markdown]
# ## Full protocol, seed by seed
#
# Each seed's final-epoch test accuracy, FocusNet's gain over the baseline *of the same seed*
# (its own frozen baseline branch), and every seed's test curve. A run that diverged or stayed at
# chance would show here, never silently dropped. The best epoch *on the test set* is shown
# only for comparison with papers that may have reported it: it is a selection on the test set
# and never our result. FocusNet's seeds 0 and 1 were trained a second time: their first runs,
# made by uncommitted code, could not be replayed exactly; those runs are kept under
# `results/superseded/` (see its README) and this page does not read them. The second runs'
# records name uncommitted code too (a recording fault of the job that trained them, since
# fixed); whether committed code makes them bit for bit is on the status page (*Which code
# trained each run*).

# %%
# NBVAL_CHECK_OUTPUT
seeds = report.per_seed(runs)
print(seeds.round(2).to_string(na_rep="—") if len(seeds) else "no full-protocol runs yet")  # —: not run

# %%
report.styled(report.paired_gains(runs[runs["profile"] == "paper"]))

# %% [markdown]
# Runs that did not train (a non-finite loss, or a final accuracy near chance) are listed here
# with their curves further down; an empty table means every finished run trained.

# %%
report.styled(report.health(runs))

# %% [markdown]
# Units that never activate on the training set ("dead" ReLUs: a channel of a convolution or a
# neuron of a linear layer; `python -m focuslib.diagnostics`, computed from each run's final
# weights). A network that lost many units early trains with less capacity: compare a seed's
# dead units with its final accuracy. Where the table shows many dead units under the paper's
# recipe (lr 0.1, momentum 0.9), a user who wants a steadier LeNet-5 could lower its learning
# rate or warm it up. The reproduction keeps the paper's recipe; the probes below test both
# remedies on the runs that failed.

# %%
report.styled(report.dead_units(runs))

# %% [markdown]
# Train accuracy (%) over each run's first epoch, one row per seed: a run that collapses
# does so in that epoch, so this also shows how slowly the runs that did train started.

# %%
report.styled(report.first_epoch(runs).T.rename_axis("seed").reset_index())

# %% [markdown]
# The first steps of every run, replayed exactly (`python -m focuslib.diagnostics RUN_DIR --first-steps`
# retrains the run's configuration for one epoch in a scratch store and checks it against the run's
# stored first epoch): the gradient norm after each step and the units of the last ReLU layer that
# output nothing positive on that step's batch. The runs that did not train are red.

# %%
fig = report.plot_step_traces(report.step_traces(runs))

# %% [markdown]
# ### What a user can do: stability probes
#
# For each run that did not train, the same configuration (data, model, method, seed, baseline
# branch) trained for a few epochs without decay: at the paper's constant 0.1, which shows
# whether the collapse recurs; at 0.01; and at 0.1 reached by a linear warm-up over the first
# epoch, step by step (Goyal et al. 2017; the paper uses none), which keeps the paper's rate
# after the start. A probe's accuracy after each epoch and its dead units are shown
# (`python -m focuslib.experiments table2 --rows ROW --seeds SEED --probe`). These probes were
# chosen **after** seeing the failures; they test a remedy and are never a result: no table
# above includes them.

# %%
report.styled(report.by_run(report.stability_probes(runs)))

# %% [markdown]
# The warm-up, the probe that trained every failed run it was tried on, over the whole recipe: the failed
# run's configuration trained for all its epochs, with the paper's lr schedule, after a one-epoch
# linear warm-up (`--remedy`; under `results/remedy/`), beside the final accuracy of its
# baseline (FocusNet's own baseline branch; for the other methods the same seed's baseline).
# Also chosen after seeing the failures, and never a result.

# %%
report.styled(report.by_run(report.remedies(runs)))

# %%
Markdown(report.describe_health(runs))

# %%
curve = report.curves(runs)
report.styled(report.best_on_test(curve))

# %%
fig = report.plot_curves(curve)

# %% [markdown]
# FocusNet's gain over its own baseline at every epoch (same seed, same epoch): where in the
# schedule the gain appears, and whether it survives the learning-rate decays at epochs 100 and 150.
# As in every paired statistic of this book, a seed where either run did not train is left out
# (and counted in the legend): its curves are above, and the runs are listed below.

# %%
gain_by_epoch = report.gain_curve(curve)
fig = report.plot_gain_curve(gain_by_epoch)

# %%
# the mean paired gain at a few epochs (lr 0.1 until 100, 0.01 until 150, then 0.001), seeds where both trained
trained_pairs = gain_by_epoch[gain_by_epoch["both trained"].astype(bool)]
trained_pairs[trained_pairs["epoch"].isin([10, 50, 100, 101, 110, 150, 200])].pivot_table(
    index=["dataset", "model", "epoch"], values="gain", aggfunc=["mean", "min", "max", "count"]).round(2)

# %% [markdown]
# ## Post-hoc variants of FocusNet's loss
#
# Where FocusNet did not beat its own baseline, we ran, on the same baselines and seeds, the
# loss as the official code computes it (see *Paper vs official code*):
# `focusnet[d_attached]` lets the gradient flow through the re-weighting term d (the paper's
# Eq. 13 treats it as fixed); `focusnet[official_labels]` uses the code's warm-label rule
# (softmax(z/2) > 1/N) and label smoothing 0.1. These were **chosen after seeing test
# accuracy** and are not the paper's reading; the table beside the paper's numbers never includes them.

# %%
report.styled(report.gains(runs[runs["profile"] == "paper"], ["focusnet", *report.FOCUSNET_VARIANTS])
              .drop(columns=["profile", "model"]))  # full protocol only; Table 2 has one model per data set

# %% tags=["remove-cell"]
# NBVAL_CHECK_OUTPUT
variant_gains = report.gains(runs, ["focusnet", *report.FOCUSNET_VARIANTS])
print(variant_gains.to_string(index=False, na_rep="—") if len(variant_gains) else "no variant runs")

# %%
Markdown(report.describe_variants(runs))

# %% [markdown]
# ## The pre-registered decision (MNIST, full protocol)
#
# The runs, the statistic and the rule were fixed and committed before the runs of seeds 5
# onwards started ([pre-registration](../book/preregistration.md)): the paired gain over the
# baseline of the same seed, over the seeds where both runs trained, with its 95 % Student-t
# interval; "the paper's gain is excluded" when the interval's upper end is below the paper's
# gain, "a gain is shown" when its lower end is above 0; the failure rate apart, with a Wilson
# interval. Every finished seed in the store is read, whatever this page's `seeds` are; the
# decision the pre-registration asks for is the one at seeds 0–14, and seeds 15–19 (run as it
# allows, "if time allows") add a reading at every finished seed below it, never replacing it;
# the figure shows that reading. `focusnet[d_attached]` is a
# post-hoc row (chosen after seeing test accuracy): the same statistic, reported apart and marked
# so, never part of the verdict on the paper's claim.

# %%
mnist = report.decision.MNIST_DECISIVE
mnist_runs = mnist.runs(results_dir=results_dir)
Markdown(report.decision.describe_preregistration(mnist, mnist_runs))

# %%
fig = report.plot_decisions(mnist_runs, mnist.decide(mnist_runs), title=mnist.reading(mnist_runs))

# %% [markdown]
# ## How ours compares

# %%
Markdown(report.describe(table) + "\n" + report.describe_ordering(runs))
