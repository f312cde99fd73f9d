"""Networks of the paper (Sec. 4.2): LeNet-5, ResNet-18/34 and MobileNetV2 x0.5, over one registry;
and ResNet-20 (He et al. 2016's CIFAR ResNet; our addition, for CIFAR-10 on the CPU).

The parts that compared methods add to a backbone live here too (not registered, they are no
classifiers of their own): :mod:`.heads` (BYOT's per-stage heads, ONE's gate), :mod:`.bifpn`
(FRSKD's BiFPN self-teacher), and the stage helpers :func:`stage_features`,
:func:`stage_channels`, :func:`resnet_stage_channels`.

>>> sorted(list_models())
['lenet5', 'mobilenetv2_x0_5', 'resnet18', 'resnet20', 'resnet34']
>>> model = create_model("resnet18", num_classes=10, small_input=True)
>>> classifier(model).in_features
512
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

from torch import nn

from . import cifar_resnet, lenet, mobilenet, resnet  # noqa: F401  (importing registers the models)
from .base import MODELS, classifier, fresh_copy, init_conv_like_resnet, penultimate
from .resnet import resnet_stage_channels, stage_channels, stage_features


def _check_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def create_model(name: str, num_classes: int, in_channels: int = 3, small_input: bool = False,
                 **kw: Any) -> nn.Module:
    """Build an untrained model ``name`` (see :func:`list_models`) with ``num_classes`` outputs.

    ``in_channels`` sets the first conv's input channels; ``small_input=True`` selects the paper's
    variant for 32x32/64x64 images (down-sampling by 8; Sec. 4.2); ``kw`` are model-specific
    options (e.g. ``unit_stride_rows`` for ``mobilenetv2_x0_5``, ``zero_init_residual`` for ResNets).
    """
    build = MODELS.get(name)
    if not isinstance(small_input, bool):
        raise ValueError(f"small_input must be True or False, got {small_input!r} "
                         "(resolve None from the data set's spec before building the model)")
    try:
        return build(_check_count("num_classes", num_classes), _check_count("in_channels", in_channels),
                     small_input, **kw)
    except TypeError as err:
        raise TypeError(f"bad option for model {name!r}: {err}") from None


def list_models() -> list[str]:
    """Names accepted by :func:`create_model`."""
    return MODELS.names()


__all__ = [
    "create_model", "list_models", "penultimate", "classifier", "stage_features", "stage_channels",
    "resnet_stage_channels", "init_conv_like_resnet", "fresh_copy", "MODELS",
]
