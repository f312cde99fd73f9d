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
# # What we found
#
# One row per claim of the paper (from its abstract, Sec. 4 and conclusion), with the table or
# figure it rests on, the evidence our full-protocol runs give beside the paper's numbers, and a
# verdict: **reproduced**, **not reproduced**, **undecided** (more seeds could go either way),
# **mixed** or **untested** (then what testing it needs). Everything here is computed from the results store when the page is built; smoke runs
# never give a verdict. Rows marked *our addition* test a claim on a data set the paper's table
# lacks (MNIST, the one a CPU can run at the full protocol).

# %% tags=["parameters"]
profile = None  # no effect: verdicts come from the full-protocol runs of the store only
data_root = None
results_dir = None

# %%
from IPython.display import HTML, Markdown

from focuslib import report
from focuslib.notebook import accept_parameters

P = accept_parameters(globals())
parts = report.claim_parts(results_dir, data_root)
table = report.findings_table(parts=parts)
glued = report.glue_findings(table, parts)

# %%
HTML(report.findings_html(table))

# %% [markdown]
# ## How a verdict is reached

# %%
Markdown(report.verdict_rule())

# %% [markdown]
# ## Every comparison, in numbers
#
# Each claim's comparisons (row against the row it should beat, per data set and model): seeds
# that trained (`n`), seeds left out because a run did not train, the mean paired gain and its 95 %
# Student-t interval, the paper's gain, the pre-registered reading and the verdict.

# %%
# NBVAL_CHECK_OUTPUT
tested = parts[parts["n"] > 0]
print(tested[["claim", "profile", "row", "against", "dataset", "n", "did not train", "gain", "low", "high", "paper gain",
              "verdict"]].round(2).to_string(index=False))
print(table["verdict"].value_counts().to_string())
