"""The contract of the three registries, checked for every entry they hold (a method, model or data
set added later is covered without editing a list): ``list_methods()``, ``list_models()`` and
``list_datasets()``. Numbers checked by hand live in the per-module tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from focuslib.datasets import DatasetNotFoundError, create_dataset, get_spec, list_datasets
from focuslib.methods import METHODS, canonical_hparams, create_method, list_methods
from focuslib.methods.base import declared_hparams
from focuslib.models import classifier, create_model, list_models, penultimate

pytestmark = pytest.mark.usefixtures("one_thread")

N, B = 10, 4


def assert_all_learn(*modules: nn.Module) -> None:
    """Every trainable parameter of ``modules`` got a non-zero gradient."""
    for module in modules:
        for name, p in module.named_parameters():
            if p.requires_grad:
                assert p.grad is not None and p.grad.abs().sum() > 0, f"{name} got no gradient"


# -- methods ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list_methods())
def test_method_declares_its_hparams_and_builds_with_defaults(name: str) -> None:
    declared = declared_hparams(METHODS.get(name))
    missing = [k for k, p in declared.items() if p.default is p.empty or p.annotation is p.empty]
    assert not missing, f"{name}: hyper-parameters without a default or a type: {missing}"
    method = create_method(name)
    assert method.name == name and set(method.hparams()) == set(declared)
    assert create_method(name, **method.hparams()).hparams() == method.hparams()
    canonical = canonical_hparams(name, {})
    assert canonical_hparams(name, canonical) == canonical  # a resolved config resolves to itself


@pytest.mark.parametrize("name", list_methods())
def test_method_rejects_an_unknown_hparam_by_name(name: str) -> None:
    with pytest.raises(TypeError, match=rf"{name}.*not_a_hparam"):
        create_method(name, not_a_hparam=1)


@pytest.mark.parametrize("name", list_methods())
def test_method_setup_and_one_step(name: str) -> None:
    """``setup`` on a small-input ResNet-18 for 10 classes (the backbone every method accepts: BYOT,
    ONE and FRSKD attach to its stages), one step on a random batch shaped as the trainer shapes it
    (views, partners, sample indices, frozen-teacher logits), then one backward pass."""
    torch.manual_seed(0)
    model = create_model("resnet18", N, small_input=True)
    method = create_method(name)
    method.setup(model, N)
    x, y = torch.randn(B, 3, 8, 8), torch.arange(B)
    batch: torch.Tensor | tuple[torch.Tensor, ...] = x
    targets = y
    if method.num_views > 1:
        batch = tuple(torch.roll(x, k, dims=3) for k in range(method.num_views))
    if method.paired_sampling:
        batch, targets = torch.cat([x, x.flip(3)]), torch.cat([y, y])
    kw = {"idx": torch.arange(B)} if method.needs_sample_index else {}
    teacher_logits = torch.randn(B, N) if method.needs_teacher else None
    out = method.training_step(model, batch, targets, teacher_logits=teacher_logits, **kw)
    rows = B * method.num_views  # the deployed classifier's logits of the labelled images
    assert out.loss.ndim == 0 and torch.isfinite(out.loss) and out.loss.requires_grad
    assert out.logits.shape == (rows, N) and out.targets.shape == (rows,)
    assert out.terms and all(t.ndim == 0 and not t.requires_grad for t in out.terms.values())
    out.loss.backward()
    assert_all_learn(model, method)
    model.eval(), method.eval()
    assert method.predict(model, x).shape == (B, N)


# -- models ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("in_channels", [1, 3])
@pytest.mark.parametrize("name", list_models())
def test_model_builds_and_splits_into_features_and_classifier(name: str, in_channels: int) -> None:
    """Every model builds for 10 classes at the paper's small input (32x32, Sec. 4.2), gives
    ``(N, 10)`` logits, has parameters, and splits into pooled features and its final linear layer."""
    torch.manual_seed(0)
    model = create_model(name, N, in_channels=in_channels, small_input=True).eval()
    assert sum(p.numel() for p in model.parameters()) > 0
    x = torch.randn(2, in_channels, 32, 32)
    with torch.no_grad():
        logits = model(x)
        features, split_logits = penultimate(model, x)
    assert logits.shape == (2, N)
    torch.testing.assert_close(split_logits, logits)
    head = classifier(model)
    assert (head.in_features, head.out_features) == (features.shape[1], N)


@pytest.mark.parametrize("name", list_models())
def test_model_rejects_an_unknown_option_by_name(name: str) -> None:
    with pytest.raises(TypeError, match=rf"{name}.*not_an_option"):
        create_model(name, N, not_an_option=2)


# -- data sets -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list_datasets())
def test_dataset_spec_is_complete(name: str) -> None:
    spec = get_spec(name)
    assert spec.name == name and spec.title and spec.prepare
    assert spec.num_classes >= 2 and spec.in_channels in (1, 3) and spec.image_size >= 8
    assert spec.train_size > 0 and spec.test_size > 0


@pytest.mark.parametrize("name", list_datasets())
def test_empty_root_loads_or_names_what_is_missing(name: str, tmp_path: Path) -> None:
    """An empty data root either suffices (a set that needs no files, e.g. scikit-learn's digits:
    then it has the spec's size) or raises an error that names the data set, the folder, the
    files expected there and how to get them (the spec's ``prepare`` text)."""
    root = tmp_path / "empty"
    root.mkdir()
    try:
        data = create_dataset(name, "train", root)
    except DatasetNotFoundError as err:
        text = str(err)
        assert isinstance(err, FileNotFoundError)
        assert repr(name) in text and str(root) in text and "Expected:" in text
        assert get_spec(name).prepare in text
    else:
        assert len(data) == get_spec(name).train_size
