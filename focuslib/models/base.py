"""What every model family shares: the registry, the features/head split behind
:func:`penultimate` and :func:`classifier`, and the initialisation helpers (a stem-conv
replacement, He initialisation of convolutions, a freshly initialised copy of a module)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor, nn

from ..registry import Registry

#: ``name -> builder(num_classes, in_channels, small_input, **kw)``; see :func:`focuslib.models.create_model`.
MODELS: Registry[Callable[..., nn.Module]] = Registry("model")


@dataclass(frozen=True)
class Family:
    """How to split one model type into pooled features and the head that maps them to logits.

    ``features(model, x)`` returns the pooled ``(B, D)`` features; ``head(model)`` is the module
    applied to them in the model's own forward (a ``Linear``, or ``Dropout`` + ``Linear``).
    """

    model_type: type[nn.Module]
    features: Callable[[nn.Module, Tensor], Tensor]
    head: Callable[[nn.Module], nn.Module]


_FAMILIES: list[Family] = []


def register_family(family: Family) -> Family:
    """Make :func:`penultimate` and :func:`classifier` work for ``family.model_type``."""
    _FAMILIES.append(family)
    return family


def family_of(model: nn.Module) -> Family:
    """The :class:`Family` of ``model``; :class:`TypeError` for a model no family describes."""
    for family in _FAMILIES:
        if isinstance(model, family.model_type):
            return family
    known = ", ".join(f.model_type.__name__ for f in _FAMILIES)
    raise TypeError(f"no features/classifier split is known for {type(model).__name__}; "
                    f"build the model with focuslib.models.create_model (supported types: {known})")


def penultimate(model: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """``(features (B, D), logits (B, N))``: the pooled features feeding the final linear layer and
    the logits computed from them, exactly as ``model(x)`` computes them (same mode, one forward)."""
    family = family_of(model)
    features = family.features(model, x)
    return features, family.head(model)(features)


def classifier(model: nn.Module) -> nn.Linear:
    """The final ``nn.Linear`` of ``model`` (``in_features`` is the feature size D of :func:`penultimate`)."""
    head = family_of(model).head(model)
    last = head[-1] if isinstance(head, nn.Sequential) else head
    if not isinstance(last, nn.Linear):
        raise TypeError(f"the head of {type(model).__name__} does not end with nn.Linear: {head}")
    return last


def new_conv(old: nn.Conv2d, in_channels: int, kernel_size: int, stride: int, padding: int) -> nn.Conv2d:
    """A freshly initialised replacement for a stem conv ``old`` (same out-channels and bias).

    Initialised like torchvision initialises ResNet and MobileNetV2 convs
    (He-normal, fan-out, gain sqrt(2)), so the replacement starts from the same distribution.
    """
    conv = init_conv_like_resnet(
        nn.Conv2d(in_channels, old.out_channels, kernel_size, stride, padding, bias=old.bias is not None)
    )
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)
    return conv


def init_conv_like_resnet(module: nn.Module) -> nn.Module:
    """Kaiming-normal (fan-out, ReLU) init of every ``Conv2d`` in ``module`` (He et al., ICCV 2015),
    as torchvision's ResNet, He et al.'s CIFAR ResNet and the BYOT code initialise theirs; returns
    ``module``. Biases are left as they are."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    return module


def fresh_copy(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` with new random weights: convolutions by
    :func:`init_conv_like_resnet`, every other layer by its own ``reset_parameters`` (e.g. ONE's
    extra branches, which the official code builds separately, so they start from other weights)."""
    clone = copy.deepcopy(module)
    for m in clone.modules():
        if not isinstance(m, nn.Conv2d) and hasattr(m, "reset_parameters"):
            m.reset_parameters()
    return init_conv_like_resnet(clone)
