# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Fig. 4 — FocusNet on inaccurate baselines
#
# Baselines stopped after a few epochs at constant learning rate (the paper: 1, 10, ..., 60
# epochs) serve as FocusNet's baseline branch. The paper reports that FocusNet improves as its
# baseline gets more accurate, and beats the fully trained baseline even with a baseline near
# chance (1.29% on CUB-200). The dashed line is the fully trained baseline, the solid line
# FocusNet on it (means over the seeds of the Fig. 4 runs, where they trained). On MNIST a LeNet-5
# is above 90% after one epoch, so we add a stop at 0 epochs, the untrained network of each seed
# (our addition, labelled in the figure): the only MNIST baseline branch near chance. Each faint dot is one run's final-epoch test accuracy, each line the mean of
# the runs that trained; a FocusNet run that did not train is a red triangle on the lower edge
# (its accuracy in the legend), and the table below gives the means with it too.
# The stopped baselines of one seed are one training run: the baseline stopped at 10 epochs
# continues the one stopped at 1 (the same configuration with more epochs; its `config.yaml`
# names it under `continued_from`), which gives the same weights as training it from scratch.

# %% tags=["parameters"]
profile = None  # None: "smoke" on the embedded digits data, else "paper" (see params/*.yaml)
dataset = None
model = None
stops = None  # epochs at which the poorly-trained baselines stop
seeds = None
epochs = None
batch_size = None
train_limit = None
test_limit = None
dataset_kwargs = None
data_root = None
results_dir = None
device = None

# %%
from focuslib.notebook import accept_parameters
from focuslib import artefact, report

P = accept_parameters(globals())
runs, table = artefact.reproduce("fig4", P, data_root=data_root, results_dir=results_dir, device=device)

# %%
fig = report.fig4_plot(runs)

# %%
# NBVAL_CHECK_OUTPUT
points = report.fig4_frame(runs)
print(points[["dataset", "profile", "baseline epochs", "series", "mean", "n", "did not train", "mean of runs that trained"]]
      .round(2).to_string(index=False))

# %% [markdown]
# Runs that did not train (a non-finite loss, or a final accuracy near chance; a baseline
# stopped after one epoch may well be near chance, which is the point of the figure):

# %%
report.styled(report.health(runs))

# %% [markdown]
# How often the recipe failed here, whether the failed runs were at chance after their first
# epoch, what their replayed first steps show and what the stability probes (a few epochs at
# a lower lr, or after a warm-up: a remedy a user could apply, never a result) reached:

# %%
report.styled(report.by_run(report.stability_probes(runs, artefact="fig4")))

# %% [markdown]
# The remedy over the whole recipe (the failed run's configuration for all its epochs after a
# one-epoch linear lr warm-up, `--remedy`; chosen after seeing the failures, never a result),
# beside the final accuracy of the stopped baseline it was trained on, or the command that runs it:

# %%
report.styled(report.by_run(report.remedies(runs, artefact="fig4")))

# %%
from IPython.display import Markdown

Markdown(report.describe_health(runs))

# %% [markdown]
# The paper's only numbers for this figure are the accuracies of its least-trained baselines
# (from the text of Sec. 4.4; the plotted points are not given as numbers):

# %%
from focuslib import paper

paper.table("fig4")[["row", "dataset", "value", "note"]]

# %% [markdown]
# ## How ours compares

# %%
Markdown(report.describe_fig4(runs))
