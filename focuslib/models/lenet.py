"""LeNet-5 for MNIST (FocusNet Table 2 cites LeCun et al., Proc. IEEE 1998, for it).

**Variant.** The layer sizes of LeCun et al. (1998) Sec. II.B: a 32x32 input field, C1 6@5x5,
S2 2x2 sub-sampling, C3 16@5x5, S4 2x2, C5 120 (5x5 -> 1x1, i.e. fully connected), F6 84, and the
output layer, in the common PyTorch form: ReLU instead of the scaled tanh, max-pooling instead
of the trainable sub-sampling, C3 connected to all six S2 maps instead of the partial
connection table, and a linear output layer instead of the Euclidean RBF units. FocusNet and
every compared method put softmax losses on logits, which the RBF output does not produce, and
the paper gives no other detail, so the PyTorch form is the natural reading.

Parameters with 1 input channel and 10 classes (hand count): C1 6*1*25 + 6 = 156,
C3 16*6*25 + 16 = 2,416, C5 400*120 + 120 = 48,120, F6 120*84 + 84 = 10,164,
output 84*10 + 10 = 850; total 61,706 (LeCun's 1998 net: about 60,000, its C3 table saving 900).

**Input sizes.** As in the 1998 paper, where 28x28 MNIST digits are centred in the 32x32 field,
an image smaller than 32x32 is zero-padded (centred) to 32x32 inside the forward; for 28x28 this
is exactly a 2-pixel padding of C1. So 28x28 MNIST, the 16x16 or 28x28 embedded digits and
32x32 CIFAR images all reach C5 as 16 maps of 5x5. A larger image (e.g. 64x64) is reduced to
5x5 by adaptive average pooling before C5 (the identity at 32x32). ``in_channels`` sets C1's
input channels (1 for digits, 3 for colour images).
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn import functional as F

from .base import MODELS, Family, register_family

INPUT_FIELD = 32
"""Side of LeNet-5's input field (LeCun et al. 1998, Sec. II.B)."""


class LeNet5(nn.Module):
    """LeNet-5; ``features`` maps an image to the 84-d F6 activation, ``fc`` is the output layer."""

    def __init__(self, num_classes: int, in_channels: int = 1) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5), nn.ReLU(inplace=True), nn.MaxPool2d(2),  # C1, S2
            nn.Conv2d(6, 16, 5), nn.ReLU(inplace=True), nn.MaxPool2d(2),  # C3, S4
            nn.AdaptiveAvgPool2d(5), nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(inplace=True),  # C5
            nn.Linear(120, 84), nn.ReLU(inplace=True),  # F6
        )
        self.fc = nn.Linear(84, num_classes)

    def forward_features(self, x: Tensor) -> Tensor:
        """The 84-d F6 features of ``x`` (B, C, H, W), padding images smaller than 32x32."""
        pad_h, pad_w = max(INPUT_FIELD - x.shape[-2], 0), max(INPUT_FIELD - x.shape[-1], 0)
        if pad_h or pad_w:
            x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
        return self.features(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.forward_features(x))


@MODELS.register("lenet5")
def lenet5(num_classes: int, in_channels: int = 3, small_input: bool = False) -> LeNet5:
    """:class:`LeNet5`; ``small_input`` has no effect (LeNet-5 is already built for 32x32 images)."""
    return LeNet5(num_classes, in_channels)


register_family(Family(LeNet5, features=lambda m, x: m.forward_features(x), head=lambda m: m.fc))
