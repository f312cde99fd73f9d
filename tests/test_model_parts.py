"""Parts that compared methods attach to a backbone (focuslib.models.bifpn, .heads, the stage and
init helpers), checked on their own; the methods' tests use them through ``setup``."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from focuslib.models import create_model, fresh_copy, resnet_stage_channels, stage_channels, stage_features
from focuslib.models.bifpn import BiFPNSelfTeacher, _max_pool_same
from focuslib.models.heads import ByotHead, ensemble_gate

pytestmark = pytest.mark.usefixtures("one_thread")


def small_resnet18(num_classes: int, in_channels: int = 3) -> torch.nn.Module:
    return create_model("resnet18", num_classes, in_channels, small_input=True)


# ---------------------------------------------------------------------------------------
# FRSKD's BiFPN self-teacher (moved from test_methods_sd_b.py)
# ---------------------------------------------------------------------------------------


def test_max_pool_same_pads_right_and_bottom_like_tensorflow() -> None:
    # 4x4 input 0..15, "same" 3x3/2 pooling: total pad (ceil(4/2) - 1)*2 + 3 - 4 = 1 -> 0 left, 1 right.
    # Windows rows/cols {0,1,2} and {2,3,pad}: maxima x[2,2] = 10, x[2,3] = 11, x[3,2] = 14, x[3,3] = 15.
    # (A symmetric padding=1 pool would give windows {-1,0,1}, {1,2,3}: 5, 7, 13, 15.)
    x = torch.arange(16.0).view(1, 1, 4, 4)
    assert _max_pool_same(x).squeeze().tolist() == [[10.0, 11.0], [14.0, 15.0]]
    assert _max_pool_same(torch.zeros(1, 1, 5, 5)).shape[-2:] == (3, 3)  # odd: pad 1 each side -> ceil(5/2)


@pytest.mark.parametrize("size, sizes", [(16, [16, 8, 4, 2]), (12, [12, 6, 3, 2])])
def test_bifpn_output_shapes(size: int, sizes: list[int]) -> None:
    # 12 px gives the odd stage size 3 (up-sampling 2 -> 3 and "same" pooling 3 -> 2 must still line up)
    torch.manual_seed(0)
    model = small_resnet18(7)
    feats, _ = stage_features(model, torch.randn(2, 3, size, size))
    assert [f.shape[-1] for f in feats] == sizes
    teacher = BiFPNSelfTeacher([64, 128, 256, 512], num_classes=7)
    out, logits = teacher(feats)
    assert [tuple(o.shape) for o in out] == [(2, 2 * c, s, s) for c, s in zip([64, 128, 256, 512], sizes)]
    assert logits.shape == (2, 7)
    assert all((o >= 0).all() for o in out)  # outputs are relu(Q_i)
    with pytest.raises(ValueError, match="expected 4 feature maps"):
        teacher(feats[1:])


# ---------------------------------------------------------------------------------------
# Stage helpers, BYOT's heads, ONE's gate and branch copies
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, channels", [("resnet18", [64, 128, 256, 512]), ("resnet20", [16, 32, 64])])
def test_stage_channels_probe_keeps_the_mode(name: str, channels: list[int]) -> None:
    model = create_model(name, 3, small_input=True).train()
    assert stage_channels(model) == channels
    assert model.training
    if name == "resnet18":
        assert list(resnet_stage_channels(model, "byot")) == channels


def test_byot_head_shapes() -> None:
    # layer2 of a small ResNet-18 on 16x16 input: (128, 8, 8) -> SepConv 128->256, 256->512 -> pooled 512
    head = ByotHead((128, 256, 512), num_classes=7)
    logits, feature = head(torch.randn(2, 128, 8, 8))
    assert logits.shape == (2, 7) and feature.shape == (2, 512)


def test_ensemble_gate_rows_sum_to_one() -> None:
    gate = ensemble_gate(16, 3)
    weights = gate(torch.randn(4, 16, 5, 5))
    assert weights.shape == (4, 3)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(4))


def test_fresh_copy_has_new_weights_of_the_same_shapes() -> None:
    torch.manual_seed(0)
    block = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Linear(4, 2))
    block[1].weight.data.fill_(2.0)
    clone = fresh_copy(block)
    for (name, p), q in zip(block.named_parameters(), clone.parameters(), strict=True):
        assert p.shape == q.shape and p.data_ptr() != q.data_ptr()
        if name not in ("0.bias", "1.bias"):  # a conv bias is copied (ResNet convs have none); BN's is reset to 0
            assert not torch.equal(p, q)
