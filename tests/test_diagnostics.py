"""Dead-unit diagnostics of finished runs (issue 10: why some LeNet-5 seeds end lower)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from torch import nn

from focuslib import report
from focuslib.config import RunConfig
from focuslib.diagnostics import DIAGNOSTICS, FIRST_STEPS, REPLAY, dead_units, diagnose, first_steps, main, replay
from focuslib.store import ResultsStore
from focuslib.train import Runtime, run


def test_a_unit_negative_on_every_input_is_dead():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2), nn.ReLU())
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
        net[0].bias.copy_(torch.tensor([0.0, 0.0, -1.0]))  # unit 2 outputs relu(-1) = 0 always
        net[2].weight.fill_(1.0)
        net[2].bias.copy_(torch.tensor([0.0, -100.0]))  # output 1 is dead on these inputs
    x = torch.tensor([[1.0, -1.0], [-1.0, 2.0]])  # unit 0 fires on the first, unit 1 on the second
    counts = dead_units(net, [x[:1], x[1:]])  # over both batches: only unit 2 never fired
    assert counts == {"1": {"dead": 1, "units": 3, "after": "Linear 2→3"},
                      "3": {"dead": 1, "units": 2, "after": "Linear 3→2"}}
    assert net.training  # the mode is restored
    assert dead_units(net, [x[:1]])["1"]["dead"] == 2  # on the first input alone unit 1 is silent too


def test_conv_units_are_channels_over_all_positions():
    net = nn.Sequential(nn.Conv2d(1, 2, 1), nn.ReLU())
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([1.0, -1.0]).view(2, 1, 1, 1))
        net[0].bias.zero_()
    x = torch.zeros(1, 1, 3, 3)
    x[0, 0, 2, 2] = 1.0  # one positive pixel keeps channel 0 alive; channel 1 never fires
    assert dead_units(net, [x])["1"] == {"dead": 1, "units": 2, "after": "Conv2d 1→2"}


def test_a_model_without_relu_is_a_clear_error():
    with pytest.raises(ValueError, match="Linear has no nn.ReLU"):
        dead_units(nn.Linear(2, 2), [torch.zeros(1, 2)])


def test_diagnose_writes_beside_the_run_and_the_report_reads_it(tmp_path, one_thread):
    cfg = RunConfig(dataset="digits", model="lenet5", epochs=1, milestones=(), batch_size=64, train_limit=128,
                    test_limit=64, profile="custom")
    result = run(cfg, runtime=Runtime(device="cpu", results_dir=str(tmp_path), quiet=True))
    main([str(result.run_dir)])
    counts = json.loads((result.run_dir / DIAGNOSTICS).read_text())["dead_units"]
    assert [c["units"] for c in counts.values()] == [6, 16, 120, 84]  # LeNet-5's four ReLU layers
    assert all(0 <= c["dead"] <= c["units"] for c in counts.values())
    assert diagnose(result.run_dir)["dead_units"] == counts  # same weights, same data: same counts
    runs = pd.DataFrame([{"row": "ce", "dataset": "digits", "model": "lenet5", "seed": 0, "profile": "custom",
                          "test_top1": result.final["test_top1"], "run_dir": str(result.run_dir)}])
    table = report.dead_units(runs, profile="custom").iloc[0]
    assert table["dead after Conv2d 6→16"] == f"{counts['features.4']['dead']}/16"
    (result.run_dir / DIAGNOSTICS).write_text("{}")
    main([str(result.run_dir), str(tmp_path), "--missing"])  # both skipped: done already / not a run
    assert (result.run_dir / DIAGNOSTICS).read_text() == "{}"


def test_a_run_without_weights_says_how_to_recreate_them(tmp_path):
    (tmp_path / "config.yaml").write_text("config: {}\n")
    with pytest.raises(FileNotFoundError, match=r"final.json is missing(.|\n)*python -m focuslib.train"):
        diagnose(tmp_path)


def test_first_steps_replays_the_first_epoch_exactly_and_records_each_step(tmp_path, one_thread):
    # a two-stage run (its frozen baseline must be found) with a warm-up (the lr changes every step)
    cfg = RunConfig(dataset="digits", model="lenet5", method="focusnet", epochs=2, milestones=(), batch_size=64,
                    train_limit=256, test_limit=64, profile="custom", warmup_epochs=1)
    result = run(cfg, runtime=Runtime(device="cpu", results_dir=str(tmp_path), quiet=True))
    before = sorted(p.name for p in (tmp_path / "custom").iterdir())
    rows = first_steps(result.run_dir, steps=3)
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert [r["lr"] for r in rows] == pytest.approx([0.1 * k / 4 for k in (1, 2, 3)])  # 256 / 64 = 4 warm-up steps
    assert all(r["grad_norm"] > 0 and set(r["dead"]) == {"Conv2d 1→6", "Conv2d 6→16", "Linear 400→120",
                                                          "Linear 120→84"} for r in rows)
    written = [json.loads(line) for line in (result.run_dir / FIRST_STEPS).read_text().splitlines()]
    assert written == rows
    assert sorted(p.name for p in (tmp_path / "custom").iterdir()) == before  # the store is left as it was
    # a replay that does not give the stored first epoch is refused and writes nothing
    metrics = result.run_dir / "metrics.jsonl"
    epochs = [json.loads(line) for line in metrics.read_text().splitlines()]
    epochs[0]["train_loss"] += 1e-6
    metrics.write_text("".join(json.dumps(e) + "\n" for e in epochs))
    (result.run_dir / FIRST_STEPS).unlink()
    with pytest.raises(RuntimeError, match="not the same computation"):
        first_steps(result.run_dir, steps=3)
    assert not (result.run_dir / FIRST_STEPS).exists()


def test_replay_retrains_the_whole_run_and_finds_the_first_difference(tmp_path, one_thread):
    cfg = RunConfig(dataset="digits", model="lenet5", method="focusnet", epochs=2, milestones=(1,), batch_size=64,
                    train_limit=256, test_limit=64, profile="custom")
    result = run(cfg, runtime=Runtime(device="cpu", results_dir=str(tmp_path), quiet=True))
    before = sorted(p.name for p in (tmp_path / "custom").iterdir())
    out = replay(result.run_dir)
    assert out["identical"] and out["epochs"] == 2 and "first_difference" not in out
    assert json.loads((result.run_dir / REPLAY).read_text()) == out
    assert sorted(p.name for p in (tmp_path / "custom").iterdir()) == before  # the store is left as it was
    # a stored epoch the code does not make is found, and the finding is written too
    metrics = result.run_dir / "metrics.jsonl"
    epochs = [json.loads(line) for line in metrics.read_text().splitlines()]
    epochs[1]["test_top1"] += 0.01
    metrics.write_text("".join(json.dumps(e) + "\n" for e in epochs))
    assert main([str(result.run_dir), "--replay"]) == 1
    written = json.loads((result.run_dir / REPLAY).read_text())
    assert not written["identical"]
    assert written["first_difference"]["epoch"] == 2 and written["first_difference"]["metric"] == "test_top1"
    assert written["first_difference"]["stored"] == epochs[1]["test_top1"]
    assert main([str(result.run_dir), "--replay", "--missing"]) == 0  # done already: skipped
    # the command line replays in a lasting store beside the profiles, where a killed replay would resume;
    # the replayed run is removed once done (the baseline's link stays for the next replay)
    assert [p.name for p in (tmp_path / "replaying" / "custom").iterdir()] == [result.cfg.teacher.label() + "-"
                                                                               + result.cfg.teacher.key()]
    from focuslib.diagnostics import _retrain

    partial = _retrain(result.run_dir, None, 1, scratch=tmp_path / "replaying")
    # unfinished: kept
    assert len(partial[0]) == 1 and (tmp_path / "replaying" / "custom" / result.run_dir.name).exists()
    resumed = replay(result.run_dir, scratch=tmp_path / "replaying")
    assert resumed["epochs"] == 2 and not (tmp_path / "replaying" / "custom" / result.run_dir.name).exists()
    assert resumed["first_difference"]["epoch"] == 2  # the resumed replay finds the same difference
    # a run another job replays is left to it: skipped, nothing written, the next one goes on
    (result.run_dir / REPLAY).unlink()
    with ResultsStore(tmp_path / "replaying").lock(result.cfg):
        assert main([str(result.run_dir), "--replay"]) == 0
    assert not (result.run_dir / REPLAY).exists()
    # a baseline without its weights (a fresh clone's committed run) is refused: the replay must not retrain
    # it into the committed folder
    teacher_dir = ResultsStore(tmp_path).run_dir(result.cfg.teacher)
    (teacher_dir / "model.pt").rename(tmp_path / "kept.pt")
    config_before = (teacher_dir / "config.yaml").read_text()
    with pytest.raises(FileNotFoundError, match="has no weights"):
        replay(result.run_dir)
    assert (teacher_dir / "config.yaml").read_text() == config_before and not (teacher_dir / "model.pt").exists()
    (result.run_dir / "final.json").unlink()
    with pytest.raises(FileNotFoundError, match="not a finished run"):
        replay(result.run_dir)
