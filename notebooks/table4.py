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
# # Table 4 — Model complexity
#
# Parameters and FLOPs of MobileNetV2 (width 0.5), ResNet-18 and ResNet-34, the paper's number
# beside ours. The paper states neither the input size nor the number of classes of its table;
# its parameter counts match 200 classes (Tiny ImageNet) with the small-input variants
# (ResNets: 3x3 stride-1 stem, no max-pool; MobileNetV2: stride 1 in the stem and in the first
# block of the c32 stage), and its ResNet FLOPs match a 64x64 input. Counts are exact and need no
# training, so both profiles compute the same table. FLOPs come from `torch.utils.flop_counter`
# (2 FLOPs per multiply-accumulate; `MACs = FLOPs / 2` is what thop reports as "FLOPs").

# %% tags=["parameters"]
profile = None  # no effect: counting needs no training
num_classes = 200
image_size = 64
small_input = True

# %%
from focuslib.notebook import accept_parameters
from focuslib import complexity, paper

P = accept_parameters(globals())
table = complexity.table4_frame(paper.table(4), num_classes=num_classes, image_size=image_size,
                                small_input=small_input)

# %%
# NBVAL_CHECK_OUTPUT
print(f"{num_classes} classes, {image_size}x{image_size} input, small_input={small_input}")
print(table.round(3).to_string())

# %% [markdown]
# ## Where the FLOPs come from
#
# FLOPs (G) and MACs (G) of each model at 32x32 and 64x64 with the small-input variant, and of
# MobileNetV2 under each reading of the paper's "stride 1 in the first and fourth convolutional
# layers" (rows of Sandler et al.'s Table 2; the number in parentheses is the total down-sampling).

# %%
# NBVAL_CHECK_OUTPUT
print(complexity.flops_by_setting(paper.table(4), num_classes=num_classes).round(4).to_string())

# %% [markdown]
# ## How ours compares

# %%
from IPython.display import Markdown

Markdown(complexity.describe_table4(table))
