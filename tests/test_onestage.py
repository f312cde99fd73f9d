"""One-stage FocusNet (issue 22): focusnet_ema and focusnet_prev, their trainer hooks, the
"beyond" plan and the chapter's tables. Hand values are worked out in comments."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from focuslib import experiments
from focuslib.config import RunConfig
from focuslib.methods import canonical_hparams, create_method, list_methods
from focuslib.models import create_model
from focuslib.report import beyond
from focuslib.train import Runtime, load_torch, resolve, run

LN2 = math.log(2)
N = 3
ONE_STAGE = ("focusnet_ema", "focusnet_prev")
TINY = dict(dataset="digits", model="lenet5", batch_size=64, train_limit=320, test_limit=200, profile="custom")


class FixedLogits(nn.Module):
    """A 'model' whose logits are a trainable tensor, whatever the input (for hand values)."""

    def __init__(self, logits: list[list[float]]) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.tensor(logits))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits


def batch(b: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(b, 1, 16, 16, generator=g), torch.arange(b) % N


def lenet(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return create_model("lenet5", num_classes=N, in_channels=1)


def tiny(method: str, epochs: int, **method_kwargs) -> RunConfig:
    return RunConfig(**TINY, method=method, epochs=epochs, milestones=(), method_kwargs=method_kwargs)


def quiet(results_dir: Path, **kw) -> Runtime:
    return Runtime(device="cpu", results_dir=str(results_dir), quiet=True, threads=1, **kw)


def metrics(run_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if not k.endswith("seconds")} for r in rows]  # timings differ


# -- registry and hyper-parameters ---------------------------------------------------------------
def test_registered_as_one_stage_methods() -> None:
    assert set(ONE_STAGE) <= set(list_methods())
    assert [create_method(m).needs_teacher for m in ONE_STAGE] == [False, False]
    assert [create_method(m).needs_sample_index for m in ONE_STAGE] == [False, True]
    assert create_method("focusnet").needs_sample_index is False


def test_defaults_are_the_chosen_settings_and_canonical_hparams_round_trip() -> None:
    # Mean Teacher: decay 0.99 during the ramp-up, 0.999 after; a 5-epoch warm-up. PS-KD: none.
    assert canonical_hparams("focusnet_ema", {}) == {"decay": 0.999, "rampup_decay": 0.99, "warmup_epochs": 5}
    assert canonical_hparams("focusnet_prev", {}) == {}
    given = canonical_hparams("focusnet_ema", {"decay": 0, "warmup_epochs": 2})
    assert given == {"decay": 0.0, "rampup_decay": 0.99, "warmup_epochs": 2} and isinstance(given["decay"], float)
    assert create_method("focusnet_ema", **given).hparams() == given
    spelled = tiny("focusnet_ema", 1, decay=0.999, rampup_decay=0.99, warmup_epochs=5)
    assert resolve(tiny("focusnet_ema", 1)).key() == resolve(spelled).key()
    assert resolve(tiny("focusnet_ema", 1)).teacher is None and resolve(tiny("focusnet_prev", 1)).teacher is None
    for bad in ({"decay": 1.0}, {"rampup_decay": -0.1}):
        with pytest.raises(ValueError):
            create_method("focusnet_ema", **bad)
    with pytest.raises(TypeError, match="warmup_epochs must be an integer, got 1.5"):  # its declared type
        create_method("focusnet_ema", warmup_epochs=1.5)


# -- focusnet_ema --------------------------------------------------------------------------------
def test_ema_warm_up_is_exactly_cross_entropy_then_the_focus_loss() -> None:
    # z = (0, ln 2, 0) -> p = (1/4, 1/2, 1/4); target 1: CE = ln 2.
    model, y = FixedLogits([[0.0, LN2, 0.0]]), torch.tensor([1])
    method = create_method("focusnet_ema", warmup_epochs=2)
    method.setup(model, N)
    for epoch in (0, 1):
        out = method.training_step(model, None, y, epoch=epoch)
        assert torch.equal(out.loss, F.cross_entropy(model.logits, y))
        assert out.loss.item() == pytest.approx(LN2)
    # Epoch 2: z_b = the EMA's logits = z (no step yet), so d = 0 and L_cls = ln 2; the warm label
    # marks z_b > 0 (class 1) plus the target 1: R_att = -ln p_1 = ln 2; R_ent = 3/2 ln 2.
    # Eq. 12: ln 2 + ln 2 - 3/2 ln 2 = 1/2 ln 2.
    out = method.training_step(model, None, y, epoch=2)
    assert out.loss.item() == pytest.approx(0.5 * LN2, rel=1e-6)
    assert out.terms["r_att"].item() == pytest.approx(LN2, rel=1e-6)


def test_ema_gets_no_gradient_and_follows_the_ema_formula() -> None:
    model = lenet(0)
    method = create_method("focusnet_ema", warmup_epochs=1)
    method.setup(model, N)
    method.train()
    assert not method.ema.training and all(not p.requires_grad for p in method.ema.parameters())
    assert any(k.startswith("ema.") for k in method.state_dict())  # checkpoints carry it
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = batch()
    expected = [p.detach().clone() for p in model.parameters()]  # the EMA starts as the model
    for epoch, decay in ((0, 0.99), (0, 0.99), (1, 0.999), (1, 0.999)):
        out = method.training_step(model, x, y, epoch=epoch)
        optimizer.zero_grad()
        out.loss.backward()
        assert all(p.grad is None for p in method.ema.parameters())
        assert all(p.grad is not None for p in model.parameters())
        optimizer.step()
        method.after_step(model)
        expected = [decay * e + (1 - decay) * p.detach() for e, p in zip(expected, model.parameters())]
    for e, p in zip(expected, method.ema.parameters()):
        assert torch.allclose(p, e, rtol=0, atol=1e-6)
    assert not all(torch.equal(p, q) for p, q in zip(method.ema.parameters(), model.parameters()))


def test_ema_focus_loss_uses_the_eval_mode_average_as_baseline() -> None:
    model = lenet(0)
    method = create_method("focusnet_ema", warmup_epochs=0)
    method.setup(model, N)
    x, y = batch()
    with torch.no_grad():
        z_b = copy.deepcopy(model).eval()(x)  # before any step the EMA is the model itself
    got = method.training_step(model, x, y, epoch=0).loss
    want = create_method("focusnet").training_step(model, x, y, teacher_logits=z_b).loss
    assert torch.allclose(got, want, rtol=0, atol=1e-6)


def test_ema_copies_batchnorm_statistics() -> None:
    torch.manual_seed(0)
    model = create_model("resnet18", num_classes=N, in_channels=1, small_input=True)
    method = create_method("focusnet_ema", warmup_epochs=1)
    method.setup(model, N)
    model.train()
    x, y = batch()
    out = method.training_step(model, x, y, epoch=0)  # a train-mode forward moves the running stats
    out.loss.backward()
    method.after_step(model)
    pairs = list(zip(method.ema.buffers(), model.buffers()))
    assert pairs and all(torch.equal(a, b) for a, b in pairs)
    assert any(name.endswith("running_mean") and b.abs().sum() > 0 for name, b in method.ema.named_buffers())


# -- focusnet_prev -------------------------------------------------------------------------------
def test_prev_epoch_zero_is_cross_entropy_then_uses_the_cached_logits() -> None:
    model, y = FixedLogits([[0.0, LN2, 0.0], [LN2, 0.0, 0.0]]), torch.tensor([1, 0])
    method = create_method("focusnet_prev")
    method.setup(model, N)
    out = method.training_step(model, None, y, epoch=0, idx=torch.tensor([4, 2]))
    assert torch.equal(out.loss, F.cross_entropy(model.logits, y))  # both rows: CE = ln 2
    assert out.loss.item() == pytest.approx(LN2)
    assert method.prev_logits.shape == (5, N) and method.prev_epoch.tolist() == [-1, -1, 0, -1, 0]
    assert torch.equal(method.prev_logits[4], torch.tensor([0.0, LN2, 0.0]))
    # Epoch 1: each row's cached logits equal its logits, so each row is 1/2 ln 2 (see the EMA test).
    out = method.training_step(model, None, y, epoch=1, idx=torch.tensor([4, 2]))
    assert out.loss.item() == pytest.approx(0.5 * LN2, rel=1e-6)
    assert method.prev_epoch.tolist() == [-1, -1, 1, -1, 1]
    with pytest.raises(RuntimeError, match="no logits from epoch 2"):
        method.training_step(model, None, y, epoch=2, idx=torch.tensor([4, 3]))  # row 3 never seen
    with pytest.raises(ValueError, match="idx"):
        method.training_step(model, None, y, epoch=0)


def test_prev_cache_takes_the_stored_size_on_load() -> None:
    model, y = FixedLogits([[1.0, 2.0, 3.0]]), torch.tensor([2])
    trained = create_method("focusnet_prev")
    trained.setup(model, N)
    trained.training_step(model, None, y, epoch=0, idx=torch.tensor([6]))
    fresh = create_method("focusnet_prev")
    fresh.setup(model, N)
    fresh.load_state_dict(trained.state_dict())
    assert fresh.prev_logits.shape == (7, N) and torch.equal(fresh.prev_logits[6], torch.tensor([1.0, 2.0, 3.0]))
    assert fresh.prev_epoch[6].item() == 0


# -- through the trainer on the embedded digits set ----------------------------------------------
@pytest.mark.parametrize("method, kwargs", [("focusnet_ema", {"warmup_epochs": 0}), ("focusnet_prev", {})])
def test_one_tiny_epoch_through_run_is_one_stage(tmp_path, method, kwargs) -> None:
    result = run(tiny(method, 1, **kwargs), runtime=quiet(tmp_path))
    assert result.finished and result.cfg.teacher is None
    assert 0 <= result.final["test_top1"] <= 100 and math.isfinite(result.final["train_loss"])
    assert [d.name for d in (tmp_path / "custom").iterdir()] == [result.run_dir.name]  # no baseline run


def test_trainer_calls_after_step_after_each_update(tmp_path) -> None:
    # With decay 0 the average is a copy of the network after every step: at the end the saved
    # EMA equals the saved network only if after_step ran after the last optimizer step.
    result = run(tiny("focusnet_ema", 1, decay=0.0, rampup_decay=0.0, warmup_epochs=0), runtime=quiet(tmp_path))
    saved = load_torch(result.run_dir / "model.pt")
    for name, weight in saved["model"].items():
        assert torch.equal(saved["method"][f"ema.{name}"], weight), name


@pytest.mark.parametrize("method, kwargs", [("focusnet_prev", {}), ("focusnet_ema", {"warmup_epochs": 1})])
def test_resume_is_exact(tmp_path, method, kwargs) -> None:
    cfg = tiny(method, 2, **kwargs)
    straight = run(cfg, runtime=quiet(tmp_path / "a"))
    part = run(cfg, runtime=quiet(tmp_path / "b", stop_after_epochs=1))
    assert not part.finished
    resumed = run(cfg, runtime=quiet(tmp_path / "b"))
    assert resumed.finished and metrics(straight.run_dir) == metrics(resumed.run_dir)
    a, b = load_torch(straight.run_dir / "model.pt"), load_torch(resumed.run_dir / "model.pt")
    assert a["method"].keys() == b["method"].keys() and a["method"]
    assert all(torch.equal(a["method"][k], b["method"][k]) for k in a["method"])
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    if method == "focusnet_prev":  # every training image cached, by the second (last) epoch
        assert a["method"]["prev_logits"].shape == (320, 10)
        assert set(a["method"]["prev_epoch"].tolist()) == {1}


# -- the plan and the chapter's tables -----------------------------------------------------------
def test_beyond_plan_reuses_table2_runs_on_the_same_seeds() -> None:
    params = {"profile": "paper", "dataset": "mnist", "seeds": [0, 1]}
    cells = experiments.plan("beyond", params)
    assert [(c.row, c.seed) for c in cells] == [(r, s) for r in ("ce", "focusnet", "focusnet_ema", "focusnet_prev")
                                               for s in (0, 1)]
    table2 = {(c.row, c.seed): c.config.key() for c in experiments.plan("table2", params)}
    assert all(table2[(c.row, c.seed)] == c.config.key() for c in cells if c.row in ("ce", "focusnet"))
    assert all(c.config.teacher is None for c in cells if c.row != "focusnet")
    smoke = experiments.plan("beyond", {})
    assert {c.dataset for c in smoke} == {"digits"} and {c.config.epochs for c in smoke} == {2}
    ema = next(c for c in smoke if c.row == "focusnet_ema")
    assert ema.config.method_kwargs["warmup_epochs"] == 1  # the smoke profile's, so 2 epochs reach the EMA


def _runs(rows: dict[str, list[float]], seconds: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame([
        {"row": row, "dataset": "mnist", "model": "lenet5", "profile": "paper", "epochs": 200, "seed": seed,
         "test_top1": acc, "total_seconds": seconds[row][seed], "run_dir": "/nonexistent"}
        for row, values in rows.items() for seed, acc in enumerate(values)])


def test_accuracy_table_pairs_seeds() -> None:
    runs = _runs({"ce": [98.0, 99.0, 97.0], "focusnet": [98.5, 98.0, 97.0], "focusnet_ema": [99.0, 99.5, 97.5]},
                 {r: [1.0, 1.0, 1.0] for r in ("ce", "focusnet", "focusnet_ema")})
    table = beyond.accuracy(runs).set_index("method")
    ema = table.loc["one-stage: EMA branch (ours)"]
    # minus ce: (1, 0.5, 0.5): mean 2/3, std sqrt(1/12) = 0.2887; t(0.975, 2) = 4.3027:
    # half width 4.3027 * 0.2887 / sqrt(3) = 0.7171 -> [-0.05, +1.38]
    assert ema["− baseline"] == "0.67 ± 0.29 (n=3)" and ema["95% CI vs baseline"] == "[-0.05, +1.38]"
    assert ema["ahead of baseline"] == "3/3"
    # minus focusnet: (0.5, 1.5, 0.5): mean 0.83, std 0.58
    assert ema["− two-stage FocusNet"] == "0.83 ± 0.58 (n=3)" and ema["ahead of two-stage"] == "3/3"
    assert table.loc["baseline (CE)", "− baseline"] == "—"
    assert table.loc["FocusNet, two-stage (paper)", "− two-stage FocusNet"] == "—"
    assert table.loc["FocusNet, two-stage (paper)", "ahead of baseline"] == "1/3"  # (+0.5, -1, 0)


def test_smoke_rows_come_after_the_full_protocol_rows() -> None:
    paper = _runs({"ce": [98.0, 99.0], "focusnet": [98.5, 98.0]}, {r: [1.0, 1.0] for r in ("ce", "focusnet")})
    smoke = paper.assign(profile="smoke", dataset="digits")
    table = beyond.accuracy(pd.concat([smoke, paper]))
    assert list(table["profile"]) == ["full protocol"] * 2 + ["smoke (not a reproduction)"] * 2
    assert list(beyond.cost(pd.concat([smoke, paper]))["profile"]) == ["full protocol", "smoke (not a reproduction)"]


def test_accuracy_table_reads_the_seeds_every_method_has() -> None:
    # seeds 3 and 4 have no one-stage run yet: the chapter's lines stay on seeds 0-2
    runs = _runs({"ce": [98.0, 99.0, 97.0, 90.0, 90.0], "focusnet": [98.5, 98.0, 97.0, 90.0, 90.0],
                  "focusnet_ema": [99.0, 99.5, 97.5]},
                 {r: [1.0] * 5 for r in ("ce", "focusnet", "focusnet_ema")})
    table = beyond.accuracy(runs).set_index("method")
    assert table.loc["baseline (CE)", "accuracy (%)"] == "98.00 ± 1.00 (n=3)"
    assert table.loc["FocusNet, two-stage (paper)", "seeds"] == "0,1,2"


def test_accuracy_table_leaves_out_a_seed_whose_baseline_did_not_train() -> None:
    # seed 2's baseline is at chance (11.35 %, the LeNet-5 lr 0.1 failure): its pairs are left out
    runs = _runs({"ce": [98.0, 99.0, 11.35], "focusnet": [98.5, 98.0, 98.0], "focusnet_ema": [99.0, 99.5, 98.9]},
                 {r: [1.0, 1.0, 1.0] for r in ("ce", "focusnet", "focusnet_ema")})
    table = beyond.accuracy(runs).set_index("method")
    assert table.loc["baseline (CE)", "accuracy (%)"] == "98.50 ± 0.71 (n=2) + 1 did not train"
    ema = table.loc["one-stage: EMA branch (ours)"]
    # minus ce over seeds 0, 1: (1.0, 0.5), mean 0.75, std 0.35
    assert ema["− baseline"] == "0.75 ± 0.35 (n=2)" and ema["ahead of baseline"] == "2/2; 1 left out"
    # minus focusnet: every seed trained, (0.5, 1.5, 0.9), mean 0.97
    assert ema["− two-stage FocusNet"] == "0.97 ± 0.50 (n=3)" and ema["ahead of two-stage"] == "3/3"


def test_cost_table_compares_the_schemes_on_the_same_seeds() -> None:
    # seed 2 has no one-stage run: its two-stage time (1000 s) is not in the table
    runs = _runs({"ce": [0, 0, 0], "focusnet": [0, 0, 0], "focusnet_prev": [0, 0]},
                 {"ce": [100.0, 120.0, 500.0], "focusnet": [150.0, 130.0, 500.0], "focusnet_prev": [125.0, 200.0]})
    table = beyond.cost(runs).set_index("scheme")
    assert table.loc["two-stage: baseline + FocusNet", "seconds"] == "250.00 ± 0.00 (n=2)"


def test_cost_table_adds_baseline_and_focusnet() -> None:
    runs = _runs({"ce": [0, 0], "focusnet": [0, 0], "focusnet_prev": [0, 0]},
                 {"ce": [100.0, 120.0], "focusnet": [150.0, 130.0], "focusnet_prev": [125.0, 200.0]})
    table = beyond.cost(runs).set_index("scheme")
    # two-stage: 250 and 250 s; one-stage 125 and 200 s: ratios 0.5 and 0.8 (mean 0.65, std 0.21)
    assert table.loc["two-stage: baseline + FocusNet", "seconds"] == "250.00 ± 0.00 (n=2)"
    prev = table.loc["one-stage: previous-epoch logits (ours)"]
    assert prev["seconds"] == "162.50 ± 53.03 (n=2)" and prev["÷ two-stage (paired)"] == "0.65 ± 0.21 (n=2)"
