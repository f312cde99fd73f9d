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
# # Beyond the paper — one-stage FocusNet
#
# **Our addition, not in the paper.** The paper's conclusion names the limitation of its
# "ineffective two-stage training strategy" and announces "an optimized one-stage scheme" as future
# work. Here the baseline branch of the focus-picking loss (Eq. 4-12) comes from the run itself, so
# one training run replaces the baseline run plus the FocusNet run:
#
# - **EMA branch** (`focusnet_ema`): an exponential moving average of the network's own weights, as
#   Mean Teacher (Tarvainen & Valpola, 2017) builds its teacher. Plain cross-entropy for a 5-epoch
#   warm-up, then Eq. 12 against the average's logits. Decay 0.99 during the warm-up and 0.999 after
#   it (Mean Teacher's two decays); the average runs in eval mode with the network's BatchNorm statistics.
# - **Previous-epoch logits** (`focusnet_prev`): the network's own logits on each training image from
#   the previous epoch, cached per image, as Progressive Self-Knowledge Distillation (Kim et al.,
#   2021) keeps its previous-epoch predictions. Epoch 1 is plain cross-entropy.
#
# Both predict with the network's own logits (`d = 0`, as FocusNet). Their settings were fixed from
# the two papers before any of their MNIST runs existed (see `focuslib/methods/onestage.py`). Each
# accuracy is the **final-epoch** test accuracy, mean ± standard deviation over the seeds every
# method has, of the runs that trained ("+ k did not train" counts those that ended at chance); the
# differences are paired by seed (each seed's baseline, two-stage FocusNet and one-stage runs share
# the seed's initialisation and batch order), with a 95% Student-t interval. A *smoke* row is a
# quick stand-in on the embedded digits data and never a result.

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
rows = None  # methods: ce, focusnet, focusnet_ema, focusnet_prev; None: the profile's
method_kwargs = None  # {method: {hyper-parameter: value}}; None: the profile's (smoke shortens the EMA warm-up)
model = None

# %%
from focuslib.notebook import accept_parameters
from focuslib import artefact, report

P = accept_parameters(globals())
runs = artefact.collect("beyond", P, data_root=data_root, results_dir=results_dir, device=device)

# %% [markdown]
# ## Accuracy (our addition, not in the paper)
#
# Each method beside the baseline and two-stage FocusNet of the same seeds. The baseline and
# two-stage FocusNet rows on MNIST are the very runs of Table 2.

# %%
accuracy = report.beyond.accuracy(runs)
compared = [c for c in accuracy.columns if c.startswith(("−", "95%", "ahead"))]
report.styled(accuracy.drop(columns=compared))

# %% [markdown]
# The same rows against the baseline and against two-stage FocusNet, paired over the seeds where
# both runs trained ("left out": seeds where one of the two did not train; such a run is counted
# after the mean in the accuracy column above):

# %%
report.styled(accuracy[["method", "data set", *compared]])

# %% tags=["remove-cell"]
# NBVAL_CHECK_OUTPUT
print(accuracy.to_string(index=False))

# %% [markdown]
# ## Training cost (our addition, not in the paper)
#
# Total wall time of training (every epoch with its test evaluation), read from each run's stored
# `total_seconds`: the two-stage scheme costs the baseline run plus the FocusNet run; a one-stage
# scheme costs one run. The last column names the device and CPU threads of the processes that
# trained the runs; other load on the machine at the time is not recorded, so a ratio far from what
# the work per step suggests may be the machine's, not the method's.

# %%
cost = report.beyond.cost(runs)
report.styled(cost)

# %% [markdown]
# ## In words

# %%
from IPython.display import Markdown

Markdown(report.beyond.describe(accuracy, cost))
