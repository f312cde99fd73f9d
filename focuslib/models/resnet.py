"""ResNet-18 and ResNet-34 (He et al., CVPR 2016) as plain torchvision ``ResNet`` instances.

``small_input=True`` is FocusNet's variant for 32x32 and 64x64 images (paper Sec. 4.2): the
first conv becomes 3x3, stride 1, padding 1 and the max-pool is removed, so the network
down-samples by 8 instead of 32.

Parameter counts (derived by hand from torchvision's published 1000-class counts):
ResNet-18 has 11,689,512 parameters. The 3x3 stem saves 7*7*3*64 - 3*3*3*64 = 7,680 and a
200-way head saves (512*1000 + 1000) - (512*200 + 200) = 410,400, so the small 200-class
ResNet-18 has 11,271,432 (Table 4: 11.27 M). ResNet-34: 21,797,672 - 7,680 - 410,400 =
21,379,592 (Table 4: 21.38 M).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torchvision
from torch import Tensor, nn
from torchvision.models import ResNet

from .base import MODELS, Family, new_conv, register_family
from .cifar_resnet import CifarResNet


def _adapt(model: ResNet, in_channels: int, small_input: bool) -> ResNet:
    """Apply the small-input stem and/or a different number of input channels in place."""
    if small_input:
        model.conv1 = new_conv(model.conv1, in_channels, kernel_size=3, stride=1, padding=1)
        model.maxpool = nn.Identity()
    elif in_channels != model.conv1.in_channels:
        model.conv1 = new_conv(model.conv1, in_channels, kernel_size=7, stride=2, padding=3)
    return model


def _builder(constructor: Callable[..., ResNet]) -> Callable[..., ResNet]:
    def build(num_classes: int, in_channels: int = 3, small_input: bool = False, **kw: Any) -> ResNet:
        return _adapt(constructor(weights=None, num_classes=num_classes, **kw), in_channels, small_input)

    build.__doc__ = (f"torchvision's ``{constructor.__name__}`` (untrained); ``kw`` goes to its constructor "
                     "(e.g. ``zero_init_residual``).")
    return build


MODELS.register("resnet18")(_builder(torchvision.models.resnet18))
MODELS.register("resnet34")(_builder(torchvision.models.resnet34))


def _stages_and_pooled(model: ResNet, x: Tensor) -> tuple[list[Tensor], Tensor]:
    """Outputs of layer1..layer4 and the pooled, flattened features (torchvision's forward order)."""
    h = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    stages = []
    for layer in (model.layer1, model.layer2, model.layer3, model.layer4):
        h = layer(h)
        stages.append(h)
    return stages, torch.flatten(model.avgpool(h), 1)


def stage_features(model: nn.Module, x: Tensor) -> tuple[list[Tensor], Tensor]:
    """``([layer1, layer2, layer3, layer4 outputs], logits)`` of a torchvision ResNet in one forward
    (``[layer1, layer2, layer3]`` for the CIFAR ResNet-20, which has three stages).

    The stage outputs are post-ReLU (the blocks end with ReLU); logits equal ``model(x)``.
    """
    if isinstance(model, CifarResNet):
        stages, pooled = model.stages_and_pooled(x)
        return stages, model.fc(pooled)
    if not isinstance(model, ResNet):
        raise TypeError(f"stage_features needs a torchvision ResNet (create_model('resnet18' or "
                        f"'resnet34', ...)) or the CIFAR ResNet ('resnet20'), got {type(model).__name__}")
    stages, pooled = _stages_and_pooled(model, x)
    return stages, model.fc(pooled)


register_family(Family(ResNet, features=lambda m, x: _stages_and_pooled(m, x)[1], head=lambda m: m.fc))


def resnet_stage_channels(model: nn.Module, method: str) -> tuple[int, int, int, int]:
    """Output channels of ``layer1..layer4`` of a torchvision ResNet (64, 128, 256, 512 for
    ResNet-18); a clear error naming ``method`` for any other network, since methods such as BYOT
    and ONE attach their heads or branches to these stages."""
    missing = [a for a in ("conv1", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc") if not hasattr(model, a)]
    if missing:
        raise TypeError(
            f"method {method!r} needs a torchvision ResNet (resnet18 / resnet34); "
            f"{type(model).__name__} has no {', '.join(missing)}"
        )
    # the first block of stage k+1 reads stage k's output
    shallow = tuple(getattr(model, f"layer{k}")[0].conv1.in_channels for k in (2, 3, 4))
    return (*shallow, model.fc.in_features)


def stage_channels(model: nn.Module) -> list[int]:
    """Channel count of each :func:`stage_features` map of ``model`` (one eval-mode probe on a
    32x32 zero image in the model's device and dtype; the model's mode is restored)."""
    first_conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    param = next(model.parameters())
    was_training = model.training
    model.eval()
    with torch.no_grad():
        feats, _ = stage_features(model, torch.zeros(1, first_conv.in_channels, 32, 32, device=param.device,
                                                     dtype=param.dtype))
    model.train(was_training)
    return [f.shape[1] for f in feats]
