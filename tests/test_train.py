"""The trainer: determinism, resume after SIGKILL, the store, clear errors (issue 9)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from focuslib.config import RunConfig
from focuslib.store import IntegrityError, ResultsStore, StoreConflictError
from focuslib.train import CheckpointError, Runtime, load_torch, main, resolve, run, select_device

# LeNet-5 on a slice of the embedded digits set: a few seconds per run on a CPU.
TINY = dict(dataset="digits", model="lenet5", epochs=3, milestones=(2,), batch_size=64, train_limit=320,
            test_limit=200, profile="custom")


def tiny(**changes) -> RunConfig:
    return RunConfig(**{**TINY, **changes})


def quiet(results_dir: Path) -> Runtime:
    return Runtime(device="cpu", results_dir=str(results_dir), quiet=True)


def metrics(result) -> list[dict]:
    rows = [json.loads(line) for line in (result.run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if not k.endswith("seconds")} for r in rows]  # timings differ


def test_same_seed_same_metrics_and_other_seed_differs(tmp_path):
    a = run(tiny(seed=0), runtime=quiet(tmp_path / "a"))
    b = run(tiny(seed=0), runtime=quiet(tmp_path / "b"))
    c = run(tiny(seed=1), runtime=quiet(tmp_path / "c"))
    assert metrics(a) == metrics(b)
    assert metrics(a) != metrics(c)
    wa, wb = load_torch(a.run_dir / "model.pt")["model"], load_torch(b.run_dir / "model.pt")["model"]
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_ce_then_focusnet_two_epochs_finite_decreasing_loss(results_dir):
    cfg = tiny(method="focusnet", epochs=2, milestones=())
    result = run(cfg, runtime=quiet(results_dir))
    assert result.cfg.teacher is not None and result.cfg.teacher.method == "ce"
    teacher_dir = ResultsStore(results_dir).run_dir(result.cfg.teacher)
    for run_dir in (teacher_dir, result.run_dir):
        rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
        losses = [r["train_loss"] for r in rows]
        assert len(losses) == 2 and all(map(torch.isfinite, torch.tensor(losses)))
        assert losses[1] < losses[0]


def test_store_reuses_the_baseline(results_dir):
    store = ResultsStore(results_dir)
    first = run(tiny(method="focusnet", epochs=1, milestones=()), runtime=quiet(results_dir), store=store)
    teacher_final = store.run_dir(first.cfg.teacher) / "final.json"
    stamp = teacher_final.stat().st_mtime_ns
    second = run(tiny(method="focusnet", epochs=1, milestones=(), method_kwargs={"beta": 0.5}),
                 runtime=quiet(results_dir), store=store)
    assert second.trained and second.cfg.teacher == first.cfg.teacher
    assert teacher_final.stat().st_mtime_ns == stamp  # not retrained
    again = run(first.cfg, runtime=quiet(results_dir), store=store)
    assert not again.trained and again.final == first.final


def test_a_baseline_without_its_weights_is_retrained_beside_its_record(results_dir):
    # A fresh clone's committed baseline carries config, metrics and final but no model.pt.
    store = ResultsStore(results_dir)
    base = run(tiny(epochs=2, milestones=()), runtime=quiet(results_dir), store=store)
    original = load_torch(base.run_dir / "model.pt")["model"]
    record = {name: (base.run_dir / name).read_bytes() for name in ("config.yaml", "metrics.jsonl", "final.json")}
    for name in ("model.pt", "model.pt.sha256.json"):
        (base.run_dir / name).unlink()
    focus = run(tiny(method="focusnet", epochs=1, milestones=(), teacher=base.cfg), runtime=quiet(results_dir),
                store=store)
    # the record stays as it was (readable while the weights retrain elsewhere), the weights are back
    assert {name: (base.run_dir / name).read_bytes() for name in record} == record
    again = load_torch(base.run_dir / "model.pt")["model"]
    assert all(torch.equal(original[k], again[k]) for k in original)
    assert not list((results_dir / ".retrain").glob("*/*/*"))  # the scratch run is gone
    used = yaml.safe_load((focus.run_dir / "config.yaml").read_text())
    digest = json.loads((base.run_dir / "model.pt.sha256.json").read_text())["sha256"]
    assert json.dumps(used).count(digest) == 1  # the FocusNet run names the weights it used
    # ... and that they were trained again, with the record's and the retrain's final metrics
    said = used["runtime"]["teacher_retrained"]
    assert said["record"]["test_top1"] == said["retrained"]["test_top1"] == base.final["test_top1"]
    assert said["record"]["test_loss"] == base.final["test_loss"]
    assert said["process"]["device"] == "cpu" and said["process"]["threads"] == torch.get_num_threads()
    assert json.loads((base.run_dir / "model.pt.retrained.json").read_text()) == said


def test_a_retrained_baseline_other_than_its_record_is_named_in_the_two_stage_runs_record(results_dir):
    # a record trained elsewhere (another CPU, thread count or device): its final top-1 is not what
    # this machine's retrain reaches, and the FocusNet run trained against the retrain must say so
    store = ResultsStore(results_dir)
    base = run(tiny(epochs=1, milestones=()), runtime=quiet(results_dir), store=store)
    elsewhere = base.final["test_top1"] + 1.25
    final = {**base.final, "test_top1": elsewhere}
    (base.run_dir / "final.json").write_text(json.dumps(final))
    (base.run_dir / "metrics.jsonl").write_text(json.dumps({**store.read_metrics(base.run_dir)[-1],
                                                            "test_top1": elsewhere}) + "\n")
    for name in ("model.pt", "model.pt.sha256.json"):
        (base.run_dir / name).unlink()
    focus = run(tiny(method="focusnet", epochs=1, milestones=(), teacher=base.cfg), runtime=quiet(results_dir),
                store=store)
    said = yaml.safe_load((focus.run_dir / "config.yaml").read_text())["runtime"]["teacher_retrained"]
    assert said["record"]["test_top1"] == elsewhere
    assert said["retrained"]["test_top1"] == base.final["test_top1"] != elsewhere
    assert store.final(base.cfg)["test_top1"] == elsewhere  # the record is left as it was


def test_store_refuses_a_folder_holding_another_config(results_dir):
    store = ResultsStore(results_dir)
    cfg = tiny(epochs=1, milestones=())
    run(cfg, runtime=quiet(results_dir), store=store)
    other = tiny(epochs=1, milestones=(), lr=0.05)
    assert other.key() != cfg.key()
    # Simulate a key collision: the folder of cfg now claims to hold another configuration.
    doc = (store.run_dir(cfg) / "config.yaml").read_text().replace("lr: 0.1", "lr: 0.05")
    (store.run_dir(cfg) / "config.yaml").write_text(doc)
    with pytest.raises(StoreConflictError, match="different configuration"):
        run(cfg, runtime=quiet(results_dir), store=store)


def test_corrupt_checkpoint_is_a_clear_error_and_is_kept(results_dir):
    cfg = tiny(epochs=2, milestones=())
    runtime = quiet(results_dir)
    runtime.stop_after_epochs = 1
    part = run(cfg, runtime=runtime)
    assert not part.finished
    ckpt = part.run_dir / "checkpoint.pt"
    data = ckpt.read_bytes()
    ckpt.write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(IntegrityError, match="does not match the sha256 recorded"):
        run(cfg, runtime=quiet(results_dir))
    assert ckpt.read_bytes() == data[: len(data) // 2]  # left for the user, not overwritten
    ckpt.with_name(ckpt.name + ".sha256.json").unlink()  # as a checkpoint written before digests were recorded
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        run(cfg, runtime=quiet(results_dir))
    assert ckpt.read_bytes() == data[: len(data) // 2]
    assert not (part.run_dir / "final.json").exists()


def test_unknown_names_and_missing_cuda_are_clear_errors(capsys):
    for flag, value, word in (("--method", "focsnet", "method"), ("--model", "lenet6", "model")):
        assert main([flag, value, "--quiet"]) == 2
        err = capsys.readouterr().err
        assert f"unknown {word} {value!r}" in err and "Known" in err
    assert main(["--threads", "0", "--quiet"]) == 2
    assert "threads must be >= 1" in capsys.readouterr().err
    assert main(["--warmup-epochs", "-1", "--quiet"]) == 2
    assert "warmup_epochs must be a non-negative integer, got -1" in capsys.readouterr().err
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no usable CUDA"):
            select_device("cuda")


def test_unknown_dataset_error_names_the_known_ones(capsys):
    assert main(["--dataset", "digitz", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "digitz" in err and "digits" in err


def _train_cmd(results_dir: Path, epochs: int) -> list[str]:
    return [sys.executable, "-m", "focuslib.train", "--dataset", "digits", "--model", "lenet5", "--epochs", str(epochs),
            "--milestones", "3", "--batch-size", "32", "--train-limit", "1000", "--test-limit", "100",
            "--device", "cpu", "--quiet", "--results-dir", str(results_dir)]


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_is_bit_identical(tmp_path):
    epochs = 5
    reference = subprocess.run(_train_cmd(tmp_path / "ref", epochs), capture_output=True, text=True, timeout=600)
    assert reference.returncode == 0, reference.stderr
    ref_dir = Path(json.loads(reference.stdout)["run_dir"])

    victim = subprocess.Popen(_train_cmd(tmp_path / "killed", epochs), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    killed_dir = tmp_path / "killed" / "custom" / ref_dir.name
    deadline = time.time() + 300
    while time.time() < deadline:  # wait for the first epoch's checkpoint, then kill inside epoch 2
        metrics = killed_dir / "metrics.jsonl"
        rows = metrics.read_text().splitlines() if metrics.exists() else []
        if len(rows) >= 1 and (killed_dir / "checkpoint.pt").exists():
            break
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert not (killed_dir / "final.json").exists(), "the run finished before it could be killed"

    resumed = subprocess.run([c for c in _train_cmd(tmp_path / "killed", epochs) if c != "--quiet"],
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming digits-lenet5-ce-s0-e5 at epoch" in resumed.stderr  # the same command resumes by default
    a, b = load_torch(ref_dir / "model.pt"), load_torch(killed_dir / "model.pt")
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    def strip(d: Path) -> list[dict]:
        lines = (d / "metrics.jsonl").read_text().splitlines()
        return [{k: v for k, v in json.loads(x).items() if not k.endswith("seconds")} for x in lines]

    assert strip(ref_dir) == strip(killed_dir)


def test_a_run_locked_by_a_live_process_is_refused_and_left_untouched(results_dir, one_thread):
    from focuslib.store import LOCK, RunLockedError

    store = ResultsStore(results_dir)
    cfg = tiny(epochs=1, milestones=())
    with store.lock(cfg) as lock:
        assert lock.read_text().endswith(f" {os.getpid()}")
        with pytest.raises(RunLockedError, match=r"being trained by another process(.|\n)*delete .*train.lock"):
            run(cfg, runtime=quiet(results_dir), store=store)
        assert sorted(p.name for p in store.run_dir(cfg).iterdir()) == [LOCK]  # nothing written
    assert not lock.exists()  # released
    result = run(cfg, runtime=quiet(results_dir), store=store)
    assert result.final is not None and not (result.run_dir / LOCK).exists()


def test_a_lock_left_by_a_dead_process_is_taken_over(results_dir, one_thread):
    import socket

    from focuslib.store import LOCK

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store = ResultsStore(results_dir)
    cfg = tiny(epochs=1, milestones=())
    store.run_dir(cfg).mkdir(parents=True)
    (store.run_dir(cfg) / LOCK).write_text(f"{socket.gethostname()} {dead.pid}")
    assert run(cfg, runtime=quiet(results_dir), store=store).final is not None


def test_the_experiments_job_skips_a_run_another_job_trains(results_dir, capsys, one_thread):
    from focuslib import experiments

    cells = experiments.plan("table2", {"profile": "smoke", "seeds": [0], "variants": []})
    ce = next(c for c in cells if c.row == "ce").config
    store = ResultsStore(results_dir)
    with store.lock(ce):
        experiments.main(["table2", "--profile", "smoke", "--seeds", "0", "--rows", "ce", "focusnet",
                          "--results-dir", str(results_dir), "--device", "cpu"])
    err = capsys.readouterr().err
    # the baseline is locked, and FocusNet needs it: both are left to the other job
    assert err.count("skipped digits-lenet5-") == 2 and "2 run(s) left to the process training them" in err
    assert not store.is_finished(ce)


def test_a_fixed_thread_count_is_used_while_training_and_restored(tmp_path):
    import yaml

    ambient = torch.get_num_threads()
    results = []
    for outside in (1, 2):
        torch.set_num_threads(outside)
        try:
            runtime = Runtime(device="cpu", results_dir=str(tmp_path / str(outside)), quiet=True, threads=1)
            result = run(tiny(epochs=1, milestones=()), runtime=runtime)
            assert torch.get_num_threads() == outside  # restored after the run
        finally:
            torch.set_num_threads(ambient)
        facts = yaml.safe_load((result.run_dir / "config.yaml").read_text())["runtime"]
        assert facts["threads"] == 1
        results.append(metrics(result))
    assert results[0] == results[1]  # the same numbers whatever the caller's thread count
    with pytest.raises(ValueError, match="threads must be >= 1"):
        Runtime(device="cpu", threads=0)


def test_a_longer_run_continues_the_shorter_run_of_its_config_bit_identically(tmp_path, one_thread):
    store = ResultsStore(tmp_path / "a")
    short, long = tiny(epochs=2, milestones=(1,)), tiny(epochs=4, milestones=(1,))
    run(short, runtime=quiet(tmp_path / "a"), store=store)
    runtime = quiet(tmp_path / "a")
    runtime.stop_after_epochs = 1  # continued, then interrupted: the resume keeps the record
    assert not run(long, runtime=runtime, store=store).finished
    continued = run(long, runtime=quiet(tmp_path / "a"), store=store)
    scratch = run(long, runtime=quiet(tmp_path / "b"))
    assert metrics(continued) == metrics(scratch) and len(metrics(continued)) == 4
    wa, wb = load_torch(continued.run_dir / "model.pt")["model"], load_torch(scratch.run_dir / "model.pt")["model"]
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    facts = lambda r: yaml.safe_load((r.run_dir / "config.yaml").read_text())["runtime"]  # noqa: E731
    assert facts(continued)["continued_from"] == short.key() and "continued_from" not in facts(scratch)
    # every process that trained it is on record: the short run's, the one stopped after 1 epoch, the last
    assert [p["start_epoch"] for p in store.processes(continued.run_dir)] == [0, 2, 3]
    assert [p["start_epoch"] for p in store.processes(scratch.run_dir)] == [0]
    assert store.processes(tmp_path / "nowhere") == []


def test_only_a_finished_shorter_run_of_the_same_config_is_continued(results_dir, one_thread):
    from focuslib.methods import create_method
    from focuslib.store import CHECKPOINT
    from focuslib.train import _resume_source

    store, runtime = ResultsStore(results_dir), quiet(results_dir)
    long = tiny(epochs=5, milestones=())
    for cfg in (tiny(epochs=1, milestones=()), tiny(epochs=2, milestones=()), tiny(epochs=3, milestones=(), lr=0.05)):
        run(cfg, runtime=runtime, store=store)
    partial = Runtime(device="cpu", results_dir=str(results_dir), quiet=True, stop_after_epochs=1)
    run(tiny(epochs=4, milestones=()), runtime=partial, store=store)  # unfinished: no prefix
    assert store.prefix(long) == tiny(epochs=2, milestones=())  # the longest finished one of the same config
    assert store.prefix(tiny(epochs=2, milestones=())) == tiny(epochs=1, milestones=())
    assert store.prefix(tiny(epochs=5, milestones=(), seed=1)) is None
    ce, one = create_method("ce"), create_method("one", scale_rampup=True)
    assert _resume_source(long, store, runtime, ce) == tiny(epochs=2, milestones=())
    assert _resume_source(long, store, runtime, one) is None  # its ramp-up depends on the run's length
    assert _resume_source(long, store, Runtime(device="cpu", results_dir=str(results_dir), resume=False), ce) is None
    (store.run_dir(tiny(epochs=2, milestones=())) / CHECKPOINT).unlink()
    assert store.prefix(long) == tiny(epochs=1, milestones=())


def test_without_keep_checkpoint_a_finished_run_keeps_its_weights_only(results_dir, one_thread):
    from focuslib.store import CHECKPOINT, WEIGHTS

    store = ResultsStore(results_dir)
    lean = Runtime(device="cpu", results_dir=str(results_dir), quiet=True, keep_checkpoint=False)
    unfinished = Runtime(device="cpu", results_dir=str(results_dir), quiet=True, keep_checkpoint=False,
                         stop_after_epochs=1)
    assert not run(tiny(), runtime=unfinished, store=store).finished
    assert (store.run_dir(tiny()) / CHECKPOINT).exists()  # an unfinished run keeps what it resumes from
    result = run(tiny(), runtime=lean, store=store)
    assert result.finished and (result.run_dir / WEIGHTS).exists()
    assert not (result.run_dir / CHECKPOINT).exists()
    assert store.prefix(tiny(epochs=5)) is None  # nothing to continue from: a longer run starts over
    teacher = run(tiny(method="focusnet"), runtime=lean, store=store)  # the weights still serve as a baseline
    assert teacher.finished and not (store.run_dir(teacher.cfg.teacher) / CHECKPOINT).exists()
    kept = run(tiny(seed=1), runtime=quiet(results_dir), store=store)
    assert (kept.run_dir / CHECKPOINT).exists()  # the default keeps it


def test_warmup_raises_the_lr_linearly_step_by_step_then_follows_the_schedule(results_dir, monkeypatch, one_thread):
    seen = []
    step = torch.optim.SGD.step

    def recording_step(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.SGD, "step", recording_step)
    run(tiny(warmup_epochs=2, epochs=3, milestones=(2,)), runtime=quiet(results_dir))
    steps = 320 // 64  # per epoch
    expected = [0.1 * k / (2 * steps) for k in range(1, 2 * steps + 1)] + [0.1 * 0.1] * steps
    assert seen == pytest.approx(expected, rel=1e-12)
    assert tiny(warmup_epochs=1).lr_at(0, 4, 5) == 0.1  # the last warm step reaches the rate exactly


def test_a_later_field_at_its_earlier_value_keeps_the_keys_of_the_stored_runs():
    # every committed run (stored before warmup_epochs existed, re-keyed to canonical keys by
    # focuslib.migrate) is found under the key its configuration resolves to
    stored = sorted((Path(__file__).resolve().parents[1] / "results").glob("*/*/config.yaml"))
    assert len([p for p in stored if p.parts[-3] == "paper"]) >= 100, "the committed full-protocol runs are missing"
    for path in stored:
        doc = yaml.safe_load(path.read_text())
        if doc["config"].get("warmup_epochs", 0) == 0:
            assert "warmup_epochs" not in doc["config"]
        cfg = RunConfig.from_dict(doc["config"])
        assert resolve(cfg) == cfg, f"{path} holds a configuration that is not canonical"
        assert cfg.key() == doc["key"] == path.parent.name.rsplit("-", 1)[1]
    warm = tiny(warmup_epochs=1)
    assert warm.to_dict()["warmup_epochs"] == 1 and warm.key() != tiny().key()
    assert RunConfig.from_dict(warm.to_dict()) == warm
    with pytest.raises(ValueError, match="warmup_epochs must be a non-negative integer"):
        tiny(warmup_epochs=-1)


def test_the_code_version_is_read_once_per_process(monkeypatch):
    from focuslib import train

    train.code_version.cache_clear()
    calls = []
    real = subprocess.run
    monkeypatch.setattr(train.subprocess, "run", lambda *a, **kw: calls.append(a) or real(*a, **kw))
    first = train.code_version()
    assert len(calls) == 2  # the commit and the working tree's state
    assert train.code_version() == first and len(calls) == 2  # later runs of the process record the same
    train.code_version.cache_clear()


def test_a_0_epoch_run_is_the_seeds_initialised_network_and_a_baseline_for_focusnet(tmp_path, one_thread):
    from focuslib.datasets import get_spec  # noqa: PLC0415
    from focuslib.models import create_model  # noqa: PLC0415

    zero = tiny(epochs=0, milestones=(), seed=3)
    result = run(zero, runtime=quiet(tmp_path))
    assert result.final["epoch"] == 0 and result.final["total_seconds"] == 0
    assert not (result.run_dir / "metrics.jsonl").exists() or not (result.run_dir / "metrics.jsonl").read_text()
    torch.manual_seed(3)
    spec = get_spec("digits")
    expected = create_model("lenet5", 10, in_channels=spec.in_channels, small_input=spec.small_input).state_dict()
    stored = load_torch(result.run_dir / "model.pt")["model"]
    assert stored.keys() == expected.keys()
    assert all(torch.equal(stored[k], expected[k]) for k in expected)
    assert result.final["test_top1"] < 40  # an untrained network on 10 classes
    focus = run(tiny(method="focusnet", epochs=1, milestones=(), seed=3, teacher=zero), runtime=quiet(tmp_path))
    assert focus.final["epoch"] == 1 and focus.cfg.teacher.epochs == 0
    with pytest.raises(ValueError, match="or 0 .*without milestones"):
        tiny(epochs=0, milestones=(2,))
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        tiny(epochs=-1)


def test_a_two_stage_run_records_its_baselines_weights_and_the_cpu(tmp_path, one_thread):
    """A retrained baseline can differ in its last bits on another CPU, so a FocusNet run's record
    names the sha256 of the exact weights it was trained against, and every run names its CPU."""
    import hashlib

    base = tiny(epochs=1, milestones=())
    result = run(tiny(method="focusnet", epochs=1, milestones=(), teacher=base), runtime=quiet(tmp_path))
    facts = yaml.safe_load((result.run_dir / "config.yaml").read_text())["runtime"]
    weights = ResultsStore(tmp_path).run_dir(base) / "model.pt"
    assert facts["teacher_weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert facts["cpu"]
    assert facts["cpu_capability"] in {"DEFAULT", "AVX2", "AVX512", "ZVECTOR", "VSX", "SVE256", "NO AVX"}
    base_facts = yaml.safe_load((ResultsStore(tmp_path).run_dir(base) / "config.yaml").read_text())["runtime"]
    assert "teacher_weights_sha256" not in base_facts


# -- the command line is generated from RunConfig's fields (issue 19, item 2) ---------------
def test_every_run_config_field_is_a_flag_that_reaches_the_config():
    import dataclasses

    from focuslib.train import config_from_args, parse_args

    argv = ["--dataset", "mnist", "--model", "resnet20", "--method", "focusnet", "--epochs", "7", "--seed", "3",
            "--batch-size", "64", "--lr", "0.05", "--momentum", "0.8", "--weight-decay", "0.0005",
            "--milestones", "2,5", "--lr-gamma", "0.2", "--warmup-epochs", "1", "--method-kwargs", "alpha=2",
            "--model-kwargs", "", "--dataset-kwargs", "", "--no-small-input", "--augment", "--train-limit", "100",
            "--test-limit", "50", "--profile", "mine"]
    cfg = config_from_args(parse_args(argv))
    expected = {"dataset": "mnist", "model": "resnet20", "method": "focusnet", "epochs": 7, "seed": 3,
                "batch_size": 64, "lr": 0.05, "momentum": 0.8, "weight_decay": 0.0005, "milestones": (2, 5),
                "lr_gamma": 0.2, "warmup_epochs": 1, "model_kwargs": {}, "dataset_kwargs": {}, "small_input": False,
                "augment": True, "train_limit": 100, "test_limit": 50, "profile": "mine"}
    assert {name: getattr(cfg, name) for name in expected} == expected
    assert cfg.method_kwargs["alpha"] == 2.0 and cfg.teacher is not None  # filled by resolve
    # a field added to RunConfig without a flag would not be settable from the command line
    flagged = {f.name for f in dataclasses.fields(RunConfig)} - {"teacher", "method_kwargs"}
    assert flagged == set(expected)


def test_flag_defaults_are_run_config_defaults_and_the_papers_schedule():
    from focuslib.train import config_from_args, parse_args

    cfg = config_from_args(parse_args(["--dataset", "mnist"]))
    assert cfg == resolve(RunConfig(dataset="mnist", epochs=200, milestones=(100, 150)))
    short = config_from_args(parse_args(["--dataset", "mnist", "--epochs", "20"]))
    assert (short.epochs, short.milestones) == (20, (10, 15))  # the paper's 1/2 and 3/4
