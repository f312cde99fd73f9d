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
# # Reproduction status
#
# Every accuracy cell of the paper's Tables 2, 3, 5 and 7–10, with what the results store
# holds for it. **complete**: every seed of the full protocol finished (for a cell the
# [pre-registered](../book/preregistration.md) MNIST analysis reads, every seed it asks for: 15);
# **partial**: some seeds finished; **smoke only**: only the smoke stand-in ran for this method;
# **needs data not present**: the data set is not on the machine that built this page; **not
# run**: nothing yet. *Ours* is the mean ± std of the final epoch over the runs that trained, with
# the number of runs that did not (they ended at chance) after it. Complete is not the same as
# agreeing with the paper: for each finished cell, *paper in our 95% CI* says whether the paper's
# number lies in the Student-t interval of that mean, and *did not train* counts the runs left out
# of it. Generated from the store, never typed.

# %% tags=["parameters"]
profile = None
data_root = None
results_dir = None

# %%
from focuslib.notebook import accept_parameters
from focuslib import report

P = accept_parameters(globals())
status = report.status(results_dir=results_dir, data_root=data_root)

# %% [markdown]
# ## At a glance
#
# Every cell the paper prints, one row per table, method and model, one column per data set.
# A complete cell is **reproduced** when the paper's number lies in the 95% interval of our
# mean over seeds and every run trained, **not reproduced** when it lies outside, **a run did not
# train** when one ended at chance (whatever the interval of the others says); **partial**: some seeds
# finished; **untested**: no full-protocol run yet (most cells need a GPU and their data set).

# %%
fig = report.plot_status_grid(report.status_grid(status))

# %% tags=["remove-cell"]
# NBVAL_CHECK_OUTPUT
# (only the full-protocol cells: the other states depend on the machine and on what ran before)
done = status[status["status"].isin(["complete", "partial"])]
print(done.to_string(index=False) if len(done) else "no full-protocol results yet")

# %%
report.styled(status.groupby(["table", "status"], sort=False).size().rename("cells").reset_index())

# %%
report.styled(report.status_view(status))

# %% [markdown]
# ## Which code trained each run
#
# Every full-protocol run records, in its `config.yaml`, the code version of the process that
# trained it, and, for a run resumed or continued from a shorter one, of every earlier process
# (`earlier`; runs resumed before this was recorded list only their last process). A version
# ending in `.dirty` means the checkout held uncommitted changes, so the record alone does not
# trace the run to a commit. Before commit d732a35 a long job recorded the checkout's state when
# each of its runs started, not the code it had imported when it began, so a `.dirty` there
# may only mean the checkout was being edited while the job ran. Either way the record is not
# proof: `python -m focuslib.diagnostics --replay RUN_DIR` retrains the run with the checkout's
# (committed) code and compares the metrics of every epoch (*replay*; *identical* means the
# committed code makes the stored run bit for bit).

# %%
# NBVAL_CHECK_OUTPUT
origin = report.provenance(results_dir)
print(report.describe_provenance(origin))

# %%
report.styled(report.provenance_exceptions(origin))
