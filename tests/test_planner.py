"""The run planner: runs an artefact needs, their state in the store, the cost of the rest (issue 24)."""

from __future__ import annotations

import json

import pytest

from focuslib import experiments, planner
from focuslib.complexity import count_flops, training_step_flops
from focuslib.config import RunConfig
from focuslib.datasets import get_spec
from focuslib.methods import create_method
from focuslib.models import create_model
from focuslib.store import ResultsStore
from focuslib.train import Runtime, resolve, run

TINY = dict(dataset="digits", model="lenet5", batch_size=64, train_limit=192, test_limit=64, milestones=(),
            profile="custom")


def _per_image(method: str) -> tuple[float, float]:
    spec = get_spec("digits")
    size = (spec.in_channels, spec.image_size, spec.image_size)
    net = create_model("lenet5", spec.num_classes, in_channels=spec.in_channels, small_input=spec.small_input)
    step = create_method(method)
    step.setup(net, spec.num_classes)
    return training_step_flops(net, step, size, spec.num_classes), count_flops(net, size)


def test_plan_lists_baselines_first_with_their_state_and_the_flops_left(tmp_path, one_thread):
    focus = resolve(RunConfig(method="focusnet", epochs=3, **TINY))
    store = ResultsStore(tmp_path)
    runtime = Runtime(device="cpu", results_dir=str(tmp_path), quiet=True)
    run(focus.teacher, runtime=runtime)  # the baseline is finished ...
    # ... FocusNet 1/3
    run(focus, runtime=Runtime(device="cpu", results_dir=str(tmp_path), quiet=True, stop_after_epochs=1))
    frame = planner.plan_frame([focus], store, planner.Rate(1e12, "test rate", measured=False))
    assert frame["run"].tolist() == [focus.teacher.label(), focus.label()]
    assert frame["state"].tolist() == ["finished", "partly trained"]
    assert frame["epochs done"].tolist() == [3, 1]
    step, forward = _per_image("focusnet")
    # digits is not augmented: the baseline's logits are computed once, then 2 epochs of steps are left
    expected = 3 * step * 192 * 2 + forward * 192
    assert frame["PFLOPs left"].iloc[1] * 1e15 == pytest.approx(expected)
    assert frame["GPU-hours left"].iloc[1] == pytest.approx(expected / 1e12 / 3600)
    assert frame["PFLOPs left"].iloc[0] == 0
    text = planner.describe_plan(frame)
    assert "2 run(s): 1 finished, 1 partly trained, 0 missing" in text and "assumed" in text


def test_a_missing_augmented_two_stage_run_pays_the_baseline_forward_every_epoch():
    cfg = resolve(RunConfig(method="focusnet", epochs=2, augment=True, **TINY))
    step, forward = _per_image("focusnet")
    assert planner.training_flops(cfg) == pytest.approx(3 * step * 192 * 2 + forward * 192 * 2)
    ce_step, _ = _per_image("ce")
    assert planner.training_flops(cfg.teacher) == pytest.approx(3 * ce_step * 192 * 2)


def test_measured_rate_reads_the_gpu_check_json(tmp_path):
    path = tmp_path / "gpu_check.json"
    path.write_text(json.dumps({"device_name": "NVIDIA H200", "results": [
        {"method": "ce", "mode": "fp32", "ok": True, "images_per_s": 10000.0, "train_flops_per_image": 3e9},
        {"method": "ce", "mode": "bf16+channels_last", "ok": True, "images_per_s": 30000.0,
         "train_flops_per_image": 3e9},
        {"method": "focusnet", "mode": "bf16+channels_last", "ok": True, "images_per_s": 25000.0,
         "train_flops_per_image": 4e9}]}))
    rate = planner.measured_rate(path)
    assert rate.measured and rate.flops_per_second == 9e13 and "H200" in rate.source
    path.write_text(json.dumps({"device_name": "x", "results": []}))
    with pytest.raises(ValueError, match="no successful ce measurement"):
        planner.measured_rate(path)


def test_experiments_plan_flag_prints_runs_and_cost_without_training(tmp_path, capsys):
    code = experiments.main(["table2", "--profile", "smoke", "--rows", "ce", "focusnet", "--seeds", "0", "--plan",
                             "--results-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0 and "2 run(s): 0 finished, 0 partly trained, 2 missing" in out
    assert not any(tmp_path.iterdir())  # nothing trained, nothing written


def test_per_dataset_sums_what_is_left_and_the_page_block_shows_it():
    """Issue 20: the cells "not run yet" of a page say what running them takes, per data set."""
    import pandas as pd  # noqa: PLC0415

    from focuslib import report  # noqa: PLC0415

    frame = pd.DataFrame({"run": ["a", "b", "c", "d"], "data set": ["mnist", "mnist", "cifar10", "cifar10"],
                          "state": ["finished", "missing", "partly trained", "missing"],
                          "GPU-hours left": [0.0, 0.25, 1.0, 2.0]})
    left = planner.per_dataset(frame)
    assert left["data set"].tolist() == ["mnist", "cifar10"]
    assert left["runs (baselines included)"].tolist() == [2, 2] and left["not finished"].tolist() == [1, 2]
    assert left["GPU-hours left"].tolist() == pytest.approx([0.25, 3.0])
    assert planner.per_dataset(frame.assign(state="finished")).empty
    left.attrs.update(artefact="table2", rate="test rate")
    html = report.still_to_run_block(left)
    assert "(3 runs, 3.2 GPU-hours; test rate)" in html and "CIFAR-10" in html and "table2 --plan" in html
    assert report.still_to_run_block(left.iloc[:0]) == ""


@pytest.mark.parametrize("method,model", [("focusnet_prev", "lenet5"), ("focusnet_ema", "lenet5"), ("ce", "lenet5"),
                                          ("byot", "resnet18"), ("one", "resnet18")])
def test_every_kind_of_method_gets_a_cost(method, model):
    """The planner counts one training step of any method, including one that needs the batch's
    sample indices (focusnet_prev's per-sample cache): ``beyond --plan`` once failed there."""
    cfg = resolve(RunConfig(method=method, epochs=1, **{**TINY, "model": model}))
    assert planner.training_flops(cfg) > 0
