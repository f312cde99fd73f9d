"""Canonical store keys (one key per run) and the migration that re-keys stored runs (issue 19)."""

from __future__ import annotations

import os
import socket

import pytest
import yaml

from focuslib import experiments
from focuslib.config import RunConfig
from focuslib.migrate import main as migrate_main
from focuslib.migrate import migrate
from focuslib.store import ResultsStore
from focuslib.train import Runtime, load_torch, resolve, run

TINY = dict(dataset="digits", model="lenet5", batch_size=64, train_limit=192, test_limit=64, milestones=(),
            profile="custom")


def test_three_spellings_of_a_focusnet_run_are_one_key():
    spellings = [RunConfig(method="focusnet", **TINY, epochs=1),
                 RunConfig(method="focusnet", method_kwargs={"alpha": 1}, **TINY, epochs=1),
                 RunConfig(method="focusnet", method_kwargs={"alpha": 1.0}, **TINY, epochs=1)]
    assert len({s.key() for s in spellings}) == 3  # as typed they differ ...
    assert len({resolve(s).key() for s in spellings}) == 1  # ... resolved they are one run
    resolved = resolve(spellings[1])
    assert resolved.method_kwargs["alpha"] == 1.0 and isinstance(resolved.method_kwargs["alpha"], float)
    assert resolved.method_kwargs["use_att"] is True and resolved.method_kwargs["warm_rule"] == "paper"
    assert resolve(resolved) == resolved  # resolving is idempotent
    # other hyper-parameters and other spellings of the schedule's numbers stay apart / agree
    assert resolve(RunConfig(method="focusnet", method_kwargs={"alpha": 2}, **TINY, epochs=1)).key() != resolved.key()
    assert RunConfig(lr=1, **TINY).key() == RunConfig(lr=1.0, **TINY).key()
    # the plans spell the paper's FocusNet without kwargs; the same run typed in full is the same key
    cell = next(c for c in experiments.plan("table2", {"profile": "paper", "dataset": "mnist", "seeds": [0]})
                if c.row == "focusnet")
    typed = RunConfig.from_dict({**cell.config.to_dict(), "method_kwargs": {"beta": 1, "detach_d": True}})
    assert resolve(typed).key() == cell.config.key()


def test_an_unknown_hyper_parameter_is_refused_before_anything_is_stored(tmp_path):
    with pytest.raises(TypeError, match="bad hyper-parameter for method 'focusnet'.*alhpa"):
        run(RunConfig(method="focusnet", method_kwargs={"alhpa": 1.0}, **TINY, epochs=1),
            runtime=Runtime(device="cpu", results_dir=str(tmp_path), quiet=True))
    assert not any(tmp_path.rglob("config.yaml"))


def _store_as_before(store: ResultsStore, cfg: RunConfig) -> str:
    """Turn the stored run of ``cfg`` into what the store held before canonical keys: its
    configuration as typed (``method_kwargs`` without defaults) under that configuration's key."""
    new_dir = store.run_dir(cfg)
    doc = yaml.safe_load((new_dir / "config.yaml").read_text())
    typed = cfg.replace(method_kwargs={})
    old_key = typed.key()
    doc.update(key=old_key, config={**doc["config"], "method_kwargs": {}})
    (new_dir / "config.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    state = load_torch(new_dir / "checkpoint.pt")
    state["key"] = old_key
    import torch  # noqa: PLC0415

    torch.save(state, new_dir / "checkpoint.pt")
    (new_dir / "checkpoint.pt.sha256.json").unlink()  # an earlier store recorded no digests
    new_dir.rename(new_dir.with_name(f"{cfg.label()}-{old_key}"))
    return old_key


def test_migration_rekeys_a_stored_run_which_is_then_found_and_continued(tmp_path, capsys):
    runtime = Runtime(device="cpu", results_dir=str(tmp_path), quiet=True, threads=1)
    store = ResultsStore(tmp_path)
    one = resolve(RunConfig(method="focusnet", **TINY, epochs=1))
    first = run(one, runtime=runtime)
    metrics = (first.run_dir / "metrics.jsonl").read_text()
    old_key = _store_as_before(store, one)
    assert not store.run_dir(one).exists()

    assert migrate_main([str(tmp_path), "--dry-run"]) == 0
    assert "1 run folder(s) to re-key" in capsys.readouterr().out
    assert (tmp_path / "custom" / f"{one.label()}-{old_key}").exists()  # a dry run changes nothing

    moves = migrate(tmp_path)
    assert [(m.old_key, m.new_key) for m in moves] == [(old_key, one.key())]
    doc = yaml.safe_load((store.run_dir(one) / "config.yaml").read_text())
    assert doc["key"] == one.key() and RunConfig.from_dict(doc["config"]) == one
    assert (store.run_dir(one) / "metrics.jsonl").read_text() == metrics
    assert store.final(one) == first.final  # found under its new key
    assert migrate(tmp_path) == []  # a second migration changes nothing

    # its checkpoint carries the new key: a longer run of the same configuration continues from it
    two = run(one.replace(epochs=2), runtime=runtime)
    assert two.final is not None
    runtime_doc = yaml.safe_load((two.run_dir / "config.yaml").read_text())["runtime"]
    assert runtime_doc["continued_from"] == one.key()


def test_migration_refuses_a_run_a_live_process_trains(tmp_path):
    runtime = Runtime(device="cpu", results_dir=str(tmp_path), quiet=True, threads=1)
    one = resolve(RunConfig(method="focusnet", **TINY, epochs=1))
    run(one, runtime=runtime)
    old_key = _store_as_before(ResultsStore(tmp_path), one)
    old_dir = tmp_path / "custom" / f"{one.label()}-{old_key}"
    (old_dir / "train.lock").write_text(f"{socket.gethostname()} {os.getpid()}")  # this live process
    with pytest.raises(SystemExit, match="being trained by a live process"):
        migrate(tmp_path)
    assert old_dir.exists() and yaml.safe_load((old_dir / "config.yaml").read_text())["key"] == old_key


def test_reading_results_never_loads_the_trainer():
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    code = ("import sys, focuslib.report, focuslib.experiments, focuslib.planner, focuslib.migrate; "
            "assert 'focuslib.train' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-1500:]
