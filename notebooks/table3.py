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
# # Table 3 — FocusNet on ImageNet
#
# Top-1 and top-5 validation accuracy of ResNet-18 and ResNet-34 on ImageNet, baseline vs FocusNet.
#
# The table puts the paper's number beside ours. Ours is the mean ± standard deviation of the
# **final-epoch** test accuracy over the seeds whose run trained (n = their number); "+ k did not
# train" counts the runs that ended at chance, left out of the mean and named below. The table
# holds *full protocol* rows only (committed runs of the paper's recipe); *smoke* rows, quick
# stand-in runs that are never a reproduction, are in the pipeline check below it.

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
models = None

# %%
from focuslib.notebook import accept_parameters
from focuslib import artefact, report

P = accept_parameters(globals())
runs, table = artefact.reproduce("table3", P, data_root=data_root, results_dir=results_dir, device=device)

# %% [markdown]
# The paper's Table 3, as typed in `focuslib.paper`:

# %%
report.paper_pivot(3)

# %% [markdown]
# Ours beside the paper's, full protocol only (a smoke stand-in run is never put beside the paper's numbers: see the pipeline check below the table):

# %%
report.styled(report.beside_paper(3, table))

# %%
from IPython.display import HTML

HTML(report.still_to_run_block(artefact.still_to_run("table3")) + report.sources_block(runs) + report.pipeline_check(table))

# %% tags=["remove-cell"]
# NBVAL_CHECK_OUTPUT
print(table[["method", "data set", "model", "paper", "ours", "profile", "epochs"]].to_string(index=False, na_rep="—"))

# %% tags=["remove-cell"]
# NBVAL_CHECK_OUTPUT
top5 = report.compare(3, runs, metric="test_top5")
print(top5[["method", "data set", "model", "paper", "ours", "profile", "epochs"]].to_string(index=False, na_rep="—"))

# %% [markdown]
# ## How ours compares

# %%
from IPython.display import Markdown

Markdown(report.describe(table))
