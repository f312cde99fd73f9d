"""A run configuration made canonical: validated names, a method's hyper-parameters complete with
their defaults, a two-stage method's baseline filled in. One run, one store key; light enough for
the planner and the report, which never train."""

from __future__ import annotations

from . import datasets
from .config import RunConfig
from .methods import METHODS, canonical_hparams

#: The arguments of :func:`~focuslib.models.create_model` that a run sets itself, never ``model_kwargs``.
RUN_SET_MODEL_OPTIONS = ("num_classes", "in_channels", "small_input")


def baseline_of(cfg: RunConfig) -> RunConfig:
    """The default frozen baseline/teacher of a two-stage run: the same recipe trained with ``ce``."""
    return cfg.replace(method="ce", method_kwargs={}, teacher=None)


def resolve(cfg: RunConfig) -> RunConfig:
    """Validate names and make the configuration canonical, so that one run has one store key:
    the method's hyper-parameters complete with their defaults (:func:`canonical_hparams`) and
    the baseline of a two-stage method filled in."""
    method_cls = METHODS.get(cfg.method)
    spec = datasets.get_spec(cfg.dataset)
    from .models import MODELS  # noqa: PLC0415

    MODELS.get(cfg.model)
    fixed = sorted(set(cfg.model_kwargs) & set(RUN_SET_MODEL_OPTIONS))
    if fixed:
        raise ValueError(f"model_kwargs cannot set {', '.join(fixed)}: the data set {cfg.dataset!r} sets num_classes "
                         f"({spec.num_classes}) and in_channels ({spec.in_channels}); small_input is the run's own "
                         f"option")
    cfg = cfg.replace(method_kwargs=canonical_hparams(cfg.method, cfg.method_kwargs))
    if method_cls.needs_teacher and cfg.teacher is None:
        cfg = cfg.replace(teacher=baseline_of(cfg))
    if not method_cls.needs_teacher and cfg.teacher is not None:
        raise ValueError(f"method {cfg.method!r} takes no teacher, but the config names one")
    if cfg.teacher is not None:
        object.__setattr__(cfg, "teacher", resolve(cfg.teacher))
    if any(m > cfg.epochs for m in cfg.milestones):
        raise ValueError(f"milestones {cfg.milestones} lie beyond epochs={cfg.epochs}")
    return cfg
