"""Reliability (issue 25): resume by default, notebook list parameters, the ``paper`` label,
checkpoints that hold no code, the store's integrity checks, inputs checked before training."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from focuslib import experiments
from focuslib.config import RunConfig
from focuslib.store import IntegrityError, ResultsStore
from focuslib.train import (
    CheckpointError,
    Runtime,
    load_torch,
    main,
    resolve,
    rng_state,
    run,
    save_torch,
    set_rng_state,
)

REPO = Path(__file__).resolve().parents[1]
# The smallest run that trains: LeNet-5 on 64 digits, two epochs, one thread.
TINY = dict(dataset="digits", model="lenet5", epochs=2, milestones=(), batch_size=32, train_limit=64, test_limit=50)
CLI = ["--dataset", "digits", "--model", "lenet5", "--milestones", "", "--batch-size", "32", "--train-limit", "64",
       "--test-limit", "50", "--device", "cpu", "--threads", "1"]


def tiny(**changes) -> RunConfig:
    return RunConfig(**{**TINY, **changes})


def runtime(results: Path, **kw) -> Runtime:
    return Runtime(device="cpu", results_dir=str(results), quiet=True, threads=1, **kw)


def rows(run_dir: Path) -> list[dict]:
    return [{k: v for k, v in json.loads(line).items() if not k.endswith("seconds")}
            for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A store holding the finished run ``tiny()`` (with its checkpoint and weights)."""
    root = tmp_path_factory.mktemp("finished")
    assert run(tiny(), runtime=runtime(root)).finished
    return root


@pytest.fixture
def store(finished, tmp_path) -> ResultsStore:
    """A private copy of :func:`finished`, free to damage."""
    shutil.copytree(finished, tmp_path / "results")
    return ResultsStore(tmp_path / "results")


# -- 1. the CLI resumes by default --------------------------------------------------------
def test_the_cli_continues_a_run_by_default_and_starts_over_with_no_resume(tmp_path, capsys):
    argv = [*CLI, "--results-dir", str(tmp_path)]
    assert main([*argv, "--epochs", "1"]) == 0
    short = Path(json.loads(capsys.readouterr().out)["run_dir"])
    assert main([*argv, "--epochs", "2"]) == 0  # the same command with more epochs
    out, err = capsys.readouterr()
    longer = Path(json.loads(out)["run_dir"])
    assert "at epoch 2/2" in err and "epoch 1/2:" not in err  # continued, epoch 1 not trained again
    assert rows(longer)[0] == rows(short)[0] and len(rows(longer)) == 2
    assert main([*argv, "--epochs", "3", "--no-resume"]) == 0
    err = capsys.readouterr().err
    assert "epoch 1/3:" in err and "continuing" not in err


def test_the_cli_resumes_an_interrupted_run(tmp_path, capsys):
    from focuslib.train import config_from_args, parse_args

    argv = [*CLI, "--epochs", "2", "--results-dir", str(tmp_path)]
    cfg = config_from_args(parse_args(argv))
    part = run(cfg, runtime=runtime(tmp_path, stop_after_epochs=1))  # as if killed after its first epoch
    assert not part.finished
    first = rows(part.run_dir)
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert f"resuming {cfg.label()} at epoch 2/2" in err and "epoch 1/2:" not in err
    assert rows(part.run_dir)[:1] == first and len(rows(part.run_dir)) == 2


# -- 2. notebook list parameters ----------------------------------------------------------
def test_papermill_string_parameters_become_lists():
    # what `papermill ... -p dataset mnist -p seeds "[0, 1]"` (the README's example) injects
    P = experiments.resolve_params("table2", {"dataset": "mnist", "seeds": "[0, 1]", "methods": "[ce, focusnet]"})
    assert (P["datasets"], P["seeds"], P["methods"]) == (["mnist"], [0, 1], ["ce", "focusnet"])
    cells = experiments.plan("table2", {"dataset": "mnist", "seeds": "[0, 1]", "methods": "ce", "variants": []})
    assert [(c.row, c.dataset, c.seed) for c in cells] == [("ce", "mnist", 0), ("ce", "mnist", 1)]
    rows10 = experiments.plan("table10", {"dataset": "[digits]", "rows": "[ce, lcls]", "seeds": 3})
    assert [(c.row, c.seed) for c in rows10] == [("ce", 3), ("lcls", 3)]


@pytest.mark.parametrize("name, value, expected", [
    ("seeds", "[a, b]", "'seeds' must be a list of integers, e.g. -p seeds \"[0, 1]\""),
    ("seeds", "[0, true]", "'seeds' must be a list of integers"),
    ("methods", "[1, 2]", "'methods' must be a list of names"),
    ("dataset", "{a: 1}", "'dataset' must be a list of names"),
])
def test_a_list_parameter_of_the_wrong_type_is_a_clear_error(name, value, expected):
    with pytest.raises(ValueError, match=expected.replace("[", r"\[")):
        experiments.resolve_params("table2", {name: value})


# -- 3. only the paper's protocol is stored as "paper" -----------------------------------
def test_a_quick_run_on_a_paper_data_set_is_custom_not_paper():
    quick = experiments.plan("table2", {"dataset": "mnist", "epochs": 1, "train_limit": 64, "variants": []})
    assert quick and {c.config.profile for c in quick} == {"custom"}
    assert {c.config.teacher.profile for c in quick if c.config.teacher} == {"custom"}
    for change in ({"epochs": 200, "batch_size": 64}, {"test_limit": 100}, {"epochs": 100}):
        cells = experiments.plan("table2",
                                 {"dataset": "mnist", "seeds": [0], "methods": ["ce"], "variants": [], **change})
        assert [c.config.profile for c in cells] == ["custom"], change
    # the protocol itself stays "paper", with the keys of the committed runs (Fig. 4's stopped baselines too)
    committed = {p.name for p in (REPO / "results" / "paper").iterdir()}
    for artefact in ("table2", "fig4"):
        cells = experiments.plan(artefact, {"dataset": "mnist", "seeds": [0]})
        assert {c.config.profile for c in cells} == {"paper"}
        ours = [c for c in cells if c.x == 0]  # Fig. 4's 0-epoch stop (our addition) is not committed yet
        assert {f"{c.config.label()}-{c.config.key()}" for c in cells if c not in ours} <= committed
    assert {c.config.profile for c in experiments.plan("table2", {})} == {"smoke"}


# -- 4. checkpoints hold tensors and plain values only ------------------------------------
class _Payload:
    """Unpickling this would run a shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("sidecar", ["removed", "forged"])
def test_a_crafted_checkpoint_is_refused_without_running_it(store, tmp_path, sidecar):
    ckpt = store.run_dir(tiny()) / "checkpoint.pt"
    digest = ckpt.with_name("checkpoint.pt.sha256.json")
    assert digest.exists()
    marker = tmp_path / "ran"
    torch.save({"key": tiny().key(), "epoch": 2, "model": _Payload(marker)}, ckpt)
    if sidecar == "removed":
        digest.unlink()
    else:  # a sha256 is no signature: whoever can replace the file can rewrite its digest
        digest.write_text(json.dumps({"sha256": hashlib.sha256(ckpt.read_bytes()).hexdigest()}))
    with pytest.raises(CheckpointError, match=rf"refusing to load {re.escape(str(ckpt))}.*Delete it and retrain"):
        run(tiny(epochs=3), runtime=runtime(store.root))  # continues from the 2-epoch run's checkpoint
    assert not marker.exists()


def test_rng_states_survive_a_checkpoint_and_old_checkpoints_still_load(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    np.random.standard_normal()  # numpy caches a gaussian: part of its state
    save_torch(tmp_path / "state.pt", rng_state())
    expected = (random.random(), np.random.standard_normal(), torch.rand(1).item())
    set_rng_state(load_torch(tmp_path / "state.pt"))
    assert (random.random(), np.random.standard_normal(), torch.rand(1).item()) == expected
    # a checkpoint written before the states were plain: numpy's state as its own arrays
    np.random.seed(4)
    torch.save({"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()},
               tmp_path / "old.pt")
    expected = np.random.rand()
    set_rng_state(load_torch(tmp_path / "old.pt"))
    assert np.random.rand() == expected


# -- 5. integrity -------------------------------------------------------------------------
def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_changed_checkpoint_is_refused(store):
    ckpt = store.run_dir(tiny()) / "checkpoint.pt"
    _flip_a_byte(ckpt)
    with pytest.raises(IntegrityError,
                       match=rf"{re.escape(str(ckpt))} does not match the sha256 .*Delete .* to retrain, or restore"):
        run(tiny(epochs=3), runtime=runtime(store.root))


def test_changed_weights_are_refused_also_as_a_baseline(store):
    weights = store.run_dir(tiny()) / "model.pt"
    _flip_a_byte(weights)
    with pytest.raises(IntegrityError, match=rf"{re.escape(str(weights))} does not match the sha256"):
        load_torch(weights)
    student = tiny(method="focusnet")
    with pytest.raises(IntegrityError, match=rf"{re.escape(str(weights))} does not match the sha256"):
        run(student, runtime=runtime(store.root))  # its baseline is tiny(), finished: its weights are read
    assert not store.run_dir(resolve(student)).exists()  # the failed start left no folder


@pytest.mark.parametrize("damage, message", [
    (lambda d: d.joinpath("final.json").write_text(
        json.dumps({**json.loads(d.joinpath("final.json").read_text()), "test_top1": 99.99})),
     r"final.json disagrees with the last row of metrics.jsonl on test_top1"),
    (lambda d: d.joinpath("final.json").write_text("[]"), r"final.json holds list \[\], not the mapping"),
    (lambda d: d.joinpath("metrics.jsonl").write_text(d.joinpath("metrics.jsonl").read_text().splitlines()[0] + "\n"),
     r"metrics.jsonl has 1 row\(s\) for a finished run of 2 epoch\(s\)"),
])
def test_a_damaged_run_record_is_a_clear_error(store, damage, message):
    run_dir = store.run_dir(tiny())
    assert store.final(tiny())["test_top1"] == rows(run_dir)[-1]["test_top1"]
    damage(run_dir)
    for read in (lambda: store.final(tiny()), lambda: store.frame(), lambda: run(tiny(), runtime=runtime(store.root))):
        with pytest.raises(IntegrityError, match=message + rf".*Delete {re.escape(str(run_dir))}"):
            read()


def test_every_committed_run_passes_the_integrity_checks():
    frame = ResultsStore(REPO / "results").frame()
    assert len(frame) >= 100  # the committed full-protocol runs and probes


# -- 6. inputs checked before anything trains -----------------------------------------
@pytest.mark.parametrize("args, message", [
    (["--train-limit", "0"], "train_limit must be a positive number of examples"),
    (["--test-limit", "-1"], "test_limit must be a positive number of examples"),
    (["--eval-every", "0"], "eval_every must be >= 1"),
    (["--method", "focusnet", "--method-kwargs", "nosuch=1"], "bad hyper-parameter for method 'focusnet'"),
    (["--model-kwargs", "nosuch=1"], "bad option for model 'lenet5'"),
    (["--profile", "../../x"], "profile must be a plain name"),
])
def test_the_train_cli_checks_its_inputs_before_creating_anything(tmp_path, capsys, args, message):
    results = tmp_path / "deep" / "results"
    assert main([*CLI, "--epochs", "1", "--results-dir", str(results), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert sorted(tmp_path.rglob("*")) == [] and not (tmp_path / "x").exists()


@pytest.mark.parametrize("args, message", [
    (["table2", "--rows", "nosuch"], "error: unknown row(s) nosuch for table2; known: ce, dropmax, focusnet"),
    (["table99"], "error: no plan for 'table99'; known: ['beyond', 'fig4', "),
    (["table2", "--dataset", "nosuch"], "error: unknown data set 'nosuch'. Known data sets: cifar10,"),
    (["table2", "--profile", "nosuch"], "error: unknown profile 'nosuch'"),
])
def test_the_experiments_cli_names_a_bad_input_in_one_line(tmp_path, capsys, args, message):
    assert experiments.main([*args, "--results-dir", str(tmp_path / "results"), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "results").exists()


def test_the_experiments_cli_refuses_a_cuda_device_on_a_machine_without_one_in_one_line(tmp_path, capsys,
                                                                                         monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    args = ["table2", "--profile", "smoke", "--rows", "ce", "--seeds", "0", "--device", "cuda"]
    assert experiments.main([*args, "--results-dir", str(tmp_path / "results")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: device 'cuda' was asked for, but this machine has no usable CUDA GPU; use --device "
                          "cpu") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "results").exists()


def test_a_start_that_fails_after_taking_the_lock_leaves_no_folder(tmp_path):
    from focuslib.store import RunLockedError

    store = ResultsStore(tmp_path / "results")
    student = resolve(tiny(method="focusnet"))
    with store.lock(student.teacher):  # another process trains the baseline
        with pytest.raises(RunLockedError):
            run(student, runtime=runtime(store.root), store=store)
        assert not store.run_dir(student).exists()
    assert not (tmp_path / "results").exists()  # nor the store's folders the lock created


@pytest.mark.slow
def test_the_readmes_papermill_commands_run_as_written(tmp_path):
    """Issue 25: the README's plain papermill lines, run as printed (only the output path moved to a
    temporary folder). Table 2 on MNIST reads the committed runs of seeds 0 and 1 and trains
    nothing; Table 7 on CUB-200 gets past its parameters to a clear error where the data is absent."""
    import hashlib  # noqa: PLC0415
    import re  # noqa: PLC0415
    import shlex  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    repo = Path(__file__).resolve().parents[1]
    lines = [ln.split("#")[0].strip() for ln in (repo / "README.md").read_text().splitlines()
             if re.match(r"papermill notebooks/\S+\.ipynb out\.ipynb", ln)]
    assert len(lines) == 2, lines
    data = Path(os.environ.get("FOCUSLIB_DATA", repo.parent / "shared" / "data"))
    if not (data / "MNIST").exists() and not (data / "mnist").exists():
        pytest.skip(f"MNIST is not under {data} (set FOCUSLIB_DATA)")
    results = repo / "results"
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in results.rglob("*") if p.is_file()}
    papermill = [sys.executable, "-m", "papermill"]
    outcome = {}
    for line in lines:
        argv = shlex.split(line)
        argv[2] = str(tmp_path / f"{Path(argv[1]).stem}-out.ipynb")
        empty = tmp_path / "no-data"
        env = {**os.environ, "FOCUSLIB_DATA": str(data if "mnist" in argv else empty)}
        proc = subprocess.run(papermill + argv[1:], cwd=repo, env=env, capture_output=True, text=True, timeout=900)
        outcome[Path(argv[1]).stem] = (proc.returncode, proc.stderr[-3000:])
    assert outcome["table2"][0] == 0, outcome["table2"][1]
    code, err = outcome["table7"]
    assert code != 0 and "cub200" in err and "How to get it" in err, err
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in results.rglob("*") if p.is_file()}
    assert after == before  # read only: the committed store is unchanged
