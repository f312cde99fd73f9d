"""focuslib.models: registry, parameter counts, shapes, stems and the feature helpers."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn
from torchvision.models import MobileNetV2, ResNet

from focuslib.models import classifier, create_model, list_models, penultimate, stage_features
from focuslib.registry import UnknownNameError

NAMES = ["lenet5", "mobilenetv2_x0_5", "resnet18", "resnet20", "resnet34"]


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_list_models_is_the_contract():
    assert list_models() == NAMES


def test_unknown_name_lists_known_names():
    with pytest.raises(UnknownNameError) as err:
        create_model("resnet50", 10)
    for name in NAMES:
        assert name in str(err.value)


@pytest.mark.parametrize("bad", [0, -3, 2.5, "10", True, None])
def test_bad_num_classes(bad):
    with pytest.raises(ValueError, match="num_classes must be a positive integer"):
        create_model("lenet5", bad)


def test_bad_in_channels_and_small_input():
    with pytest.raises(ValueError, match="in_channels"):
        create_model("resnet18", 10, in_channels=0)
    with pytest.raises(ValueError, match="small_input"):
        create_model("resnet18", 10, small_input=None)


# -- parameter counts ---------------------------------------------------------------------------
def test_resnets_match_torchvision_published_counts():
    # torchvision's documented counts for the 1000-class ImageNet models.
    assert n_params(create_model("resnet18", 1000)) == 11_689_512
    assert n_params(create_model("resnet34", 1000)) == 21_797_672


def test_small_input_resnet18_hand_count():
    # 11,689,512 - (7*7*3*64 - 3*3*3*64 = 7,680) - ((512*1000 + 1000) - (512*200 + 200) = 410,400)
    assert n_params(create_model("resnet18", 200, small_input=True)) == 11_271_432


@pytest.mark.parametrize("name, paper_m", [("mobilenetv2_x0_5", 0.94), ("resnet18", 11.27), ("resnet34", 21.38)])
def test_table4_parameter_counts(name, paper_m):
    # FocusNet Table 4 (200 classes, small-input variants), printed to two decimals.
    assert abs(n_params(create_model(name, 200, small_input=True)) / 1e6 - paper_m) <= 0.005


def test_mobilenet_equals_torchvision_default_when_unmodified():
    ours = create_model("mobilenetv2_x0_5", 200)
    ref = torchvision.models.mobilenet_v2(weights=None, width_mult=0.5, num_classes=200)
    assert [tuple(p.shape) for p in ours.parameters()] == [tuple(p.shape) for p in ref.parameters()]
    strides = [m.stride for m in ours.modules() if isinstance(m, nn.Conv2d)]
    assert strides == [m.stride for m in ref.modules() if isinstance(m, nn.Conv2d)]


def test_lenet5_hand_count():
    # C1 6*1*25+6=156, C3 16*6*25+16=2416, C5 400*120+120=48120, F6 120*84+84=10164, out 84*10+10=850
    assert n_params(create_model("lenet5", 10, in_channels=1)) == 61_706


# -- shapes -------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [8, 16, 28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_lenet5_shapes(size, channels):
    model = create_model("lenet5", 10, in_channels=channels).eval()
    assert model(torch.randn(2, channels, size, size)).shape == (2, 10)


def test_lenet5_pads_28_to_the_32_field():
    # Zero-padding a 28x28 image by 2 on each side must give the same output as the 28x28 image.
    model = create_model("lenet5", 10, in_channels=1).eval()
    x = torch.randn(2, 1, 28, 28)
    assert torch.allclose(model(x), model(nn.functional.pad(x, (2, 2, 2, 2))))


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "mobilenetv2_x0_5"])
@pytest.mark.parametrize("size, small", [(32, True), (64, True), (224, False)])
def test_cnn_shapes(name, size, small):
    model = create_model(name, 7, small_input=small).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, size, size)).shape == (1, 7)


@pytest.mark.parametrize("name", ["resnet18", "resnet34"])
def test_resnets_are_plain_torchvision(name):
    model = create_model(name, 10, small_input=True)
    assert type(model) is ResNet
    assert isinstance(model.maxpool, nn.Identity)
    conv = model.conv1
    assert (conv.kernel_size, conv.stride, conv.padding) == ((3, 3), (1, 1), (1, 1))


def test_small_input_stem_keeps_32x32():
    model = create_model("resnet18", 10, small_input=True).eval()
    x = torch.randn(1, 3, 32, 32)
    stem = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    assert stem.shape == (1, 64, 32, 32)
    stages, _ = stage_features(model, x)
    # Down-sampling by 8: layer4 maps 32x32 to 4x4.
    assert [s.shape[-1] for s in stages] == [32, 16, 8, 4]


def test_standard_stem_downsamples_by_32():
    stages, _ = stage_features(create_model("resnet18", 10).eval(), torch.randn(1, 3, 64, 64))
    assert [s.shape[-1] for s in stages] == [16, 8, 4, 2]


@pytest.mark.parametrize("rows", [(1, 4), (1, 3)])
def test_mobilenet_small_input_downsamples_by_8(rows):
    model = create_model("mobilenetv2_x0_5", 10, small_input=True, unit_stride_rows=rows).eval()
    assert model.features(torch.randn(1, 3, 64, 64)).shape[-2:] == (8, 8)


def test_mobilenet_default_reading_is_stem_and_c32_stage():
    model = create_model("mobilenetv2_x0_5", 10, small_input=True)
    strided = [m.out_channels for m in model.features.modules()
               if isinstance(m, nn.Conv2d) and m.stride == (2, 2)]
    # Width 0.5 channels: c16 -> 8, c24 -> 16, c32 -> 16, c96 -> 48. Standard strided convs: stem,
    # c24 dw (8*6 = 48), c32 dw (16*6 = 96), c64 dw (16*6 = 96), c160 dw (48*6 = 288);
    # rows (1, 4) leave the c24, c64 and c160 depthwise convs at stride 2.
    assert strided == [48, 96, 288]
    assert model.features[0][0].stride == (1, 1)


def test_mobilenet_rejects_unstrided_rows():
    with pytest.raises(ValueError, match="unit_stride_rows"):
        create_model("mobilenetv2_x0_5", 10, unit_stride_rows=(2,))


@pytest.mark.parametrize("name", ["resnet18", "mobilenetv2_x0_5"])
def test_in_channels(name):
    for small in (False, True):
        model = create_model(name, 5, in_channels=1, small_input=small).eval()
        with torch.no_grad():
            assert model(torch.randn(1, 1, 32, 32)).shape == (1, 5)


# -- helpers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, dim", [("lenet5", 84), ("resnet18", 512), ("mobilenetv2_x0_5", 1280)])
def test_penultimate_and_classifier(name, dim):
    torch.manual_seed(0)
    model = create_model(name, 6, small_input=True).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        features, logits = penultimate(model, x)
        assert features.shape == (2, dim) and logits.shape == (2, 6)
        assert torch.allclose(logits, model(x), atol=1e-6)
        head = classifier(model)
        assert isinstance(head, nn.Linear) and head.in_features == dim
        assert torch.allclose(head(features), logits, atol=1e-6)


def test_classifier_is_the_models_own_layer():
    assert classifier(m := create_model("resnet34", 3)) is m.fc
    assert classifier(m := create_model("mobilenetv2_x0_5", 3)) is m.classifier[-1]


def test_stage_features_consistent_with_forward():
    model = create_model("resnet18", 4, small_input=True).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        stages, logits = stage_features(model, x)
        assert [tuple(s.shape[1:]) for s in stages] == [(64, 32, 32), (128, 16, 16), (256, 8, 8), (512, 4, 4)]
        assert torch.allclose(logits, model(x), atol=1e-6)
        assert torch.allclose(penultimate(model, x)[0], stages[-1].mean((2, 3)), atol=1e-6)


@pytest.mark.parametrize("name", ["lenet5", "mobilenetv2_x0_5"])
def test_stage_features_rejects_non_resnets(name):
    with pytest.raises(TypeError, match="needs a torchvision ResNet"):
        stage_features(create_model(name, 3), torch.randn(1, 3, 32, 32))


def test_unknown_model_type():
    with pytest.raises(TypeError, match="create_model"):
        penultimate(nn.Linear(3, 2), torch.randn(1, 3))


def test_mobilenet_is_torchvision():
    assert isinstance(create_model("mobilenetv2_x0_5", 3), MobileNetV2)
