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
# # Fig. 3 — how the probability gap d_t re-weights the classification loss
#
# FocusNet's classification term (Eq. 9) is the cross-entropy of the re-weighted softmax
# $\mathrm{softmax}(\mathbf z + \mathbf d)$, where $\mathbf d = \mathrm{softmax}(\mathbf z) -
# \mathrm{softmax}(\mathbf z^b)$ (Eq. 8). Rewritten as Eq. 13,
#
# $$\mathcal L_{cls} = -\log \frac{e^{z_t}}{e^{z_t} + \sum_{j \ne t} e^{d_j - d_t} e^{z_j}},$$
#
# a negative $d_t$ (FocusNet less confident than the baseline on the true class: a difficult
# sample) scales up the competing classes and the loss; a positive $d_t$ (an easy sample)
# scales them down. Below, the logits are fixed to $\mathbf z = (m, 0, \dots, 0)$ with target
# class 0, $d_t$ sweeps $[-1, 1]$ and the other classes share $-d_t$ so that $\mathbf d$ sums
# to 0, as Eq. 8 implies. At $d_t = 0$ the loss is plain cross-entropy. The figure is exact
# arithmetic: it does not depend on the profile.

# %% tags=["parameters"]
profile = "smoke"  # both profiles draw the same exact curves
num_classes = 10
points = 201
margins = [-2.0, 0.0, 2.0]  # z_t - z_j for every other class j

# %%
from focuslib.notebook import accept_parameters
from focuslib.losses import lcls_curve

P = accept_parameters(globals())
curves = lcls_curve(margins=margins, num_classes=num_classes, points=points)

# %%
import seaborn as sns

sns.set_theme(style="whitegrid")
ax = sns.lineplot(data=curves, x="d_t", y="l_cls", hue="setting")
ax.axvline(0.0, color="grey", linestyle=":")
ax.set(xlabel="$d_t$ (FocusNet minus baseline probability on the true class)",
       ylabel=r"$\mathcal{L}_{cls}$", title=f"Eq. 13, N = {num_classes} classes");

# %% [markdown]
# The check the paper argues (Sec. 3.5): for every setting the loss falls strictly as $d_t$
# grows, and equals the cross-entropy at $d_t = 0$.

# %%
# NBVAL_CHECK_OUTPUT
import numpy as np

for setting, c in curves.groupby("setting", sort=False):
    at_zero = np.interp(0.0, c["d_t"], c["l_cls"])
    print(f"{setting}: L_cls(d_t=-1) = {c['l_cls'].iloc[0]:.4f}, L_cls(0) = {at_zero:.4f} "
          f"(CE {c['ce'].iloc[0]:.4f}), L_cls(1) = {c['l_cls'].iloc[-1]:.4f}, "
          f"strictly decreasing: {bool((np.diff(c['l_cls']) < 0).all())}")
