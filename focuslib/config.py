"""The run configuration: one frozen dataclass whose canonical hash keys the results store."""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Bumped whenever a code change alters what a configuration trains; it is part of the
#: hash, so old results are never mixed with new ones. The exact git commit of a run is
#: recorded beside the config (``code_version``) but does not enter the hash.
RESULTS_FORMAT = 1

#: Fields added after the first results were stored, with the value every earlier run had:
#: :meth:`RunConfig.to_dict` (and so the hash and ``config.yaml``) leaves such a field out
#: while it has that value, so the keys of the earlier runs stay valid.
LATER_FIELDS: dict[str, Any] = {"warmup_epochs": 0}

PAPER_SCHEDULES: dict[str, tuple[int, tuple[int, ...]]] = {
    "200ep": (200, (100, 150)),  # MNIST, CIFAR, Imagewoof, Stanford Dogs, CUB-200 (paper Sec. 4.2)
    "90ep": (90, (30, 60)),  # ImageNet Dogs, Tiny ImageNet, ImageNet
}


def paper_schedule(schedule: str, epochs: int | None = None) -> tuple[int, tuple[int, ...]]:
    """Epochs and lr milestones of a paper schedule, optionally shortened to ``epochs``.

    A shortened run keeps the paper's proportions: milestones at 1/2 and 3/4 of the epochs
    for the 200-epoch schedule, at 1/3 and 2/3 for the 90-epoch one (none that would fall
    on epoch 0 or the last epoch).
    """
    if schedule not in PAPER_SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; known: {', '.join(PAPER_SCHEDULES)}")
    full, milestones = PAPER_SCHEDULES[schedule]
    if epochs is None or epochs == full:
        return full, milestones
    if epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    fractions = (1 / 2, 3 / 4) if schedule == "200ep" else (1 / 3, 2 / 3)
    return epochs, tuple(sorted({m for m in (round(epochs * f) for f in fractions) if 0 < m < epochs}))


def check_profile_name(profile: str) -> None:
    """Raise ValueError unless ``profile`` is a plain name: it names a folder of the results store
    and a file of ``params/``, so a path such as ``../../x`` would reach outside both."""
    if not isinstance(profile, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", profile):
        raise ValueError(f"profile must be a plain name (letters, digits, '_', '.', '-'; it names a folder of the "
                         f"results store and a file of params/), got {profile!r}")


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines what one training run computes.

    CLI flags of ``python -m focuslib.train`` and notebook parameters map onto these
    fields one to one. ``teacher`` is the configuration of the frozen pre-trained network a
    two-stage method (FocusNet, KD, Tf-KD self, De-reverse KD) needs; the store trains it
    first when it is missing. ``milestones`` divide the learning rate by ``1/lr_gamma``.
    ``warmup_epochs`` > 0 raises the learning rate linearly, step by step, over that many
    epochs, from the scheduled rate divided by the number of warm-up steps up to the scheduled
    rate (Goyal et al. 2017); the paper uses none. ``train_limit``/``test_limit`` keep the
    first examples of each split (smoke runs only). ``epochs=0`` is the seed's initialised
    network, never trained (our addition to Fig. 4: a baseline at chance); it is stored with its
    weights and test metrics like any run.
    """

    dataset: str = "digits"
    model: str = "lenet5"
    method: str = "ce"
    epochs: int = 200
    seed: int = 0
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    milestones: tuple[int, ...] = (100, 150)
    lr_gamma: float = 0.1
    warmup_epochs: int = 0
    method_kwargs: Mapping[str, Any] = field(default_factory=dict)
    model_kwargs: Mapping[str, Any] = field(default_factory=dict)
    dataset_kwargs: Mapping[str, Any] = field(default_factory=dict)
    small_input: bool | None = None
    augment: bool | None = None
    train_limit: int | None = None
    test_limit: int | None = None
    teacher: RunConfig | None = None
    profile: str = "custom"

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer (torch and numpy seeds are), got {self.seed!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {self.batch_size!r}")
        if self.epochs < 0 or (self.epochs == 0 and (self.milestones or self.warmup_epochs)):
            raise ValueError(f"epochs must be a positive integer, or 0 (the seed's initialised network, untrained) "
                             f"without milestones or warm-up; got epochs={self.epochs!r}, "
                             f"milestones={tuple(self.milestones)!r}, warmup_epochs={self.warmup_epochs!r}")
        for name in ("train_limit", "test_limit"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(
                    f"{name} must be a positive number of examples (or None for all), got {getattr(self, name)!r}"
                )
        check_profile_name(self.profile)
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if not isinstance(self.warmup_epochs, int) or isinstance(self.warmup_epochs, bool) or self.warmup_epochs < 0:
            raise ValueError(f"warmup_epochs must be a non-negative integer, got {self.warmup_epochs!r}")
        if any(m < 1 for m in self.milestones) or list(self.milestones) != sorted(self.milestones):
            raise ValueError(f"milestones must be increasing positive epochs, got {self.milestones!r}")
        object.__setattr__(self, "milestones", tuple(int(m) for m in self.milestones))
        for name in ("lr", "momentum", "weight_decay", "lr_gamma"):  # 1 and 1.0: one key
            value = getattr(self, name)
            if isinstance(value, int) and not isinstance(value, bool):
                object.__setattr__(self, name, float(value))
        for name in ("method_kwargs", "model_kwargs", "dataset_kwargs"):
            object.__setattr__(self, name, dict(getattr(self, name)))
        if isinstance(self.teacher, Mapping):
            object.__setattr__(self, "teacher", RunConfig.from_dict(self.teacher))

    # -- serialisation -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["milestones"] = list(self.milestones)
        out["teacher"] = self.teacher.to_dict() if self.teacher else None
        for name, earlier in LATER_FIELDS.items():
            if out[name] == earlier:
                del out[name]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown RunConfig field(s) {unknown}; known fields: {sorted(known)}")
        data = dict(data)
        if "milestones" in data:
            data["milestones"] = tuple(data["milestones"])
        return cls(**data)

    def replace(self, **changes: Any) -> RunConfig:
        return dataclasses.replace(self, **changes)

    def lr_at(self, epoch: int, step: int = 0, steps_per_epoch: int = 1) -> float:
        """The learning rate of step ``step`` (0-based) of epoch ``epoch`` (0-based): ``lr``
        divided by ``1/lr_gamma`` at each milestone reached, times the linear warm-up factor
        while ``epoch < warmup_epochs``."""
        lr = self.lr * self.lr_gamma ** bisect.bisect_right(self.milestones, epoch)
        if epoch < self.warmup_epochs:
            lr *= (epoch * steps_per_epoch + step + 1) / (self.warmup_epochs * steps_per_epoch)
        return lr

    def key(self) -> str:
        """The canonical hash: 16 hex digits of the sha256 of the sorted JSON form."""
        blob = json.dumps({"format": RESULTS_FORMAT, **self.to_dict()}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def label(self) -> str:
        """A short human-readable name, e.g. ``digits-lenet5-focusnet-s0-e2``."""
        return f"{self.dataset}-{self.model}-{self.method}-s{self.seed}-e{self.epochs}"
