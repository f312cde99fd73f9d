"""The reduced CIFAR-10 profile (issue 23): its planned runs, its stated schedule, its post-hoc row
and its label."""

from __future__ import annotations

import pandas as pd
import pytest

from focuslib import experiments, report
from focuslib.methods import non_default_hparams

LABEL = "reduced protocol (our addition)"


def reduced_cells() -> list[experiments.Cell]:
    return experiments.plan("table2", {"profile": "reduced"})


def test_plan_gives_the_stated_run_configs():
    cells = reduced_cells()
    main = [c for c in cells if c.row in ("ce", "focusnet")]
    assert sorted((c.row, c.seed) for c in main) == [(r, s) for r in ("ce", "focusnet") for s in range(5)]
    for c in cells:
        cfg = c.config
        assert (cfg.dataset, cfg.model, cfg.profile) == ("cifar10", "resnet20", "reduced")
        assert (cfg.epochs, cfg.milestones, cfg.lr, cfg.lr_gamma) == (30, (15, 22), 0.1, 0.1)
        assert (cfg.batch_size, cfg.momentum, cfg.weight_decay, cfg.warmup_epochs) == (128, 0.9, 1e-4, 0)
        assert cfg.dataset_kwargs == {"variant": "jpeg_full"}  # the shared JPEG-recompressed copy
        assert (cfg.augment, cfg.small_input, cfg.train_limit, cfg.test_limit) == (None, None, None, None)


def test_focusnet_rows_run_on_the_ce_run_of_their_seed():
    cells = reduced_cells()
    ce = {c.seed: c.config for c in cells if c.row == "ce"}
    focus = [c for c in cells if c.row != "ce"]
    assert {c.row for c in focus} == {"focusnet", "focusnet[official]"} and len(focus) == 10
    for c in focus:
        assert c.config.method == "focusnet" and c.config.teacher == ce[c.seed]
    kw = {c.row: non_default_hparams("focusnet", c.config.method_kwargs) for c in focus}
    assert kw["focusnet"] == {}  # the book's reading of the paper
    assert kw["focusnet[official]"] == {"warm_rule": "official", "label_smoothing": 0.1, "detach_d": False}


def test_profile_states_its_schedule_and_model():
    # 15 and 22 are stated, not derived from the paper's 1/2 and 3/4 of 30 (22.5)
    stated = experiments.profile_params("reduced", "table2")
    assert (stated["epochs"], stated["milestones"], stated["model"]) == (30, [15, 22], "resnet20")


def test_stated_milestones_are_taken_as_given():
    P = {"profile": "x", "epochs": 30, "milestones": [10, 20]}
    assert experiments.profile_schedule("cifar10", P) == (30, (10, 20))
    assert experiments.profile_schedule("cifar10", {"epochs": 8}) == (8, (4, 6))
    with pytest.raises(ValueError, match="no epochs"):
        experiments.profile_schedule("cifar10", {"profile": "x", "milestones": [10]})


def test_the_reduced_profile_trains_in_fp32_on_any_device():
    # its committed runs are fp32 CPU runs; a GPU that finishes the others must not switch to bf16
    reduced = experiments.runtime_options(experiments.resolve_params("table2", {"profile": "reduced"}))
    assert reduced == {"threads": 1, "keep_checkpoints": True, "amp": False}
    paper = experiments.runtime_options(experiments.resolve_params("table2", {"profile": "paper"}))
    assert paper["amp"] is None  # the device's default: bf16 on CUDA
    runtime = experiments.make_runtime(data_root=None, results_dir=None, device="cpu", quiet=True, **reduced)
    assert runtime.amp is False and runtime.threads == 1


def test_runs_are_stored_under_the_reduced_profile(tmp_path):
    from focuslib.store import ResultsStore

    cfg = reduced_cells()[0].config
    assert ResultsStore(tmp_path).run_dir(cfg).parent == tmp_path / "reduced"


def test_label_in_the_report():
    assert report.PROFILE_LABEL["reduced"] == LABEL
    runs = pd.DataFrame([
        {"row": row, "dataset": "cifar10", "model": "resnet20", "profile": "reduced", "epochs": 30, "seed": seed,
         "test_top1": acc}
        for seed, (ce, fn) in enumerate([(90.0, 91.0), (90.5, 90.0)]) for row, acc in (("ce", ce), ("focusnet", fn))
    ])
    table = report.gains(runs, ["focusnet"])
    assert list(table["profile"]) == [LABEL]
    assert "paper" not in table["profile"].iloc[0] and "full protocol" not in table["profile"].iloc[0]


def test_a_profile_sets_run_config_fields_by_their_names():
    # one config object: a parameter named like a RunConfig field sets it for every run of the plan
    P = {"profile": "x", "seeds": [0], "batch_size": 32, "lr": 0.05, "train_limit": 64, "model": "resnet20",
         "threads": 1, "methods": ["ce"], "dataset_kwargs": None}
    assert experiments.run_fields(P) == {"profile": "x", "batch_size": 32, "lr": 0.05, "train_limit": 64}
    cfg = experiments.config("mnist", "lenet5", "ce", 2, {**P, "epochs": 4})
    assert (cfg.batch_size, cfg.lr, cfg.train_limit, cfg.seed, cfg.epochs, cfg.milestones) == (32, 0.05, 64, 2, 4,
                                                                                                  (2, 3))
    assert cfg.dataset_kwargs == {}  # None keeps RunConfig's default
