"""Bad inputs and corruptions (issue 25): each case runs the real command in a subprocess (the train,
experiments and book CLIs, plain papermill) against a private copy of a results folder and checks
the exit code, one clear ``error:`` line naming what was wrong, no traceback (papermill prints one of
its own code), and a results folder unchanged byte for byte, with no run folder left behind; and that
a write killed mid-way leaves no temporary file once its run is resumed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

from focuslib.config import RunConfig
from focuslib.train import Runtime, run

REPO = Path(__file__).resolve().parents[1]
#: A committed full-protocol run (text files only) copied into every results folder.
COMMITTED = "paper/mnist-lenet5-ce-s0-e200-2995047096fd9057"
#: The finished run every results folder holds with its checkpoint and weights: LeNet-5, 64 digits, 2 epochs.
TINY = RunConfig(dataset="digits", model="lenet5", epochs=2, milestones=(), batch_size=32, train_limit=64,
                 test_limit=50)
TINY_ARGS = ["--dataset", "digits", "--model", "lenet5", "--milestones", "", "--batch-size", "32", "--train-limit",
             "64", "--test-limit", "50", "--device", "cpu", "--threads", "1", "--epochs", "2"]
TRAIN = [sys.executable, "-m", "focuslib.train"]
EXPERIMENTS = [sys.executable, "-m", "focuslib.experiments"]
BOOK = [sys.executable, "-m", "focuslib.book", "--no-html"]


@dataclass(frozen=True)
class Case:
    """One bad input: the command (``{results}``, ``{tmp}`` and ``{run}`` are filled in), the damage
    done to the results folder or to ``tmp`` before it runs, the exit code and the fragments its
    one ``error:`` line must hold."""

    argv: list[str]
    message: tuple[str, ...]
    code: int = 2
    prepare: Callable[[Path, Path], None] | None = None  # (results folder, tmp folder)
    env: dict[str, str] = field(default_factory=dict)


# -- damage ----------------------------------------------------------------------------------
def _run_dir(results: Path) -> Path:
    return results / TINY.profile / f"{TINY.label()}-{TINY.key()}"


def _write(name: str, text: str) -> Callable[[Path, Path], None]:
    return lambda results, tmp: _run_dir(results).joinpath(name).write_text(text)


def _first_metrics_row_only(results: Path, tmp: Path) -> None:
    path = _run_dir(results) / "metrics.jsonl"
    path.write_text(path.read_text().splitlines()[0] + "\n")


def _flip_a_byte(name: str) -> Callable[[Path, Path], None]:
    def damage(results: Path, tmp: Path) -> None:
        path = _run_dir(results) / name
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    return damage


def _truncated_checkpoint(results: Path, tmp: Path) -> None:
    path = _run_dir(results) / "checkpoint.pt"
    path.write_bytes(path.read_bytes()[:100])
    path.with_name("checkpoint.pt.sha256.json").unlink()  # as if written before the store kept digests


class _Payload:
    """Unpickling this would run a shell command (it creates ``marker``)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _crafted_checkpoint(results: Path, tmp: Path) -> None:
    """A pickle that runs code, in place of the checkpoint, with a sidecar forged to match it."""
    path = _run_dir(results) / "checkpoint.pt"
    torch.save({"key": TINY.key(), "epoch": 2, "model": _Payload(tmp / "pwned")}, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    path.with_name("checkpoint.pt.sha256.json").write_text(json.dumps({"sha256": digest}))


def _npz(name: str, content: bytes | None) -> Callable[[Path, Path], None]:
    """A CIFAR-10 shared-data archive under ``tmp/data``: ``content``, else a valid .npz without the arrays."""
    def damage(results: Path, tmp: Path) -> None:
        path = tmp / "data" / "cifar10" / name
        path.parent.mkdir(parents=True)
        if content is None:
            with open(path, "wb") as fh:
                np.savez(fh, unrelated=np.zeros(3))
        else:
            path.write_bytes(content)
    return damage


def _profile(text: str) -> Callable[[Path, Path], None]:
    def write(results: Path, tmp: Path) -> None:
        (tmp / "params").mkdir()
        (tmp / "params" / "mine.yaml").write_text(text)
    return write


def _empty_data_root(results: Path, tmp: Path) -> None:
    (tmp / "data").mkdir()


OWN_PARAMS = {"FOCUSLIB_PARAMS": "{tmp}/params"}
LEN = ("--epochs", "3")  # a run the store does not hold finished, so the command gets as far as it can

# -- the cases ----------------------------------------------------------------------------------
CASES: dict[str, Case] = {
    # train: names and numbers
    "train-unknown-method": Case([*TRAIN, "--method", "nosuch"], ("unknown method 'nosuch'", "Known methods: ")),
    "train-unknown-model": Case([*TRAIN, "--model", "nosuch"], ("unknown model 'nosuch'",)),
    "train-unknown-dataset": Case([*TRAIN, "--dataset", "nosuch"], ("unknown data set 'nosuch'",)),
    "train-negative-limit": Case([*TRAIN, "--train-limit", "-5"], ("train_limit must be a positive number", "-5")),
    "train-negative-epochs": Case([*TRAIN, "--epochs", "-1"], ("epochs must be a positive integer", "-1")),
    "train-zero-batch": Case([*TRAIN, "--batch-size", "0"], ("batch_size must be a positive integer",)),
    "train-negative-seed": Case([*TRAIN, "--seed", "-1"], ("seed must be a non-negative integer", "-1")),
    "train-eval-every-0": Case([*TRAIN, *LEN, "--eval-every", "0"], ("eval_every must be >= 1",)),
    "train-zero-threads": Case([*TRAIN, *LEN, "--threads", "0"], ("threads must be >= 1",)),
    "train-milestone-beyond": Case([*TRAIN, "--milestones", "5"], ("milestones (5,) lie beyond epochs=2",)),
    "train-milestones-not-numbers": Case([*TRAIN, "--milestones", "a,b"],
                                         ("argument --milestones: expected comma-separated epochs", "'a,b'")),
    "train-unknown-device": Case([*TRAIN, *LEN, "--device", "nosuch"], ("device must be 'auto' or a torch device",
                                                                          "'nosuch'")),
    # train: method and model options
    "train-method-kwargs-typo": Case([*TRAIN, "--method", "focusnet", "--method-kwargs", "alpah=1"],
                                     ("bad hyper-parameter for method 'focusnet'", "alpah")),
    "train-method-kwargs-type": Case([*TRAIN, "--method", "focusnet", "--method-kwargs", "alpha=abc"],
                                     ("bad hyper-parameter for method 'focusnet': alpha must be a number, got 'abc'",)),
    "train-method-kwargs-choice": Case([*TRAIN, "--method", "focusnet", "--method-kwargs", "warm_rule=nosuch"],
                                       ("unknown warm_rule 'nosuch'; use 'paper'",)),
    "train-method-kwargs-no-value": Case([*TRAIN, "--method", "focusnet", "--method-kwargs", "alpha"],
                                         ("argument --method-kwargs: expected key=value, got 'alpha'",)),
    "train-method-kwargs-bad-yaml": Case([*TRAIN, "--method", "focusnet", "--method-kwargs", "alpha=["],
                                         ("argument --method-kwargs: alpha=[: not a YAML value",)),
    "train-model-kwargs-num-classes": Case([*TRAIN, "--model-kwargs", "num_classes=5"],
                                           ("model_kwargs cannot set num_classes", "'digits' sets num_classes (10)")),
    "train-model-kwargs-typo": Case([*TRAIN, "--model-kwargs", "nosuch=1"], ("bad option for model 'lenet5'",
                                                                              "nosuch")),
    "train-teacher-for-ce": Case([*TRAIN, "--teacher-epochs", "1"], ("method 'ce' takes no teacher",)),
    "train-negative-teacher-epochs": Case([*TRAIN, "--method", "focusnet", "--teacher-epochs", "-1"],
                                          ("epochs must be a positive integer, or 0", "epochs=-1")),
    "train-profile-traversal": Case([*TRAIN, "--profile", "../../x"], ("profile must be a plain name", "'../../x'")),
    # train: data
    "train-missing-data-root": Case([*TRAIN, "--dataset", "mnist", "--data-root", "{tmp}/data"],
                                    ("data set 'mnist': nothing usable at {tmp}/data",), 1, _empty_data_root),
    "train-cifar10-npz-not-an-archive": Case(
        [*TRAIN, "--dataset", "cifar10", "--data-root", "{tmp}/data"],
        ("data set 'cifar10': nothing usable at {tmp}/data/cifar10/cifar10_lossless_subset.npz",), 1,
        _npz("cifar10_lossless_subset.npz", b"not an archive")),
    "train-cifar10-npz-truncated": Case(
        [*TRAIN, "--dataset", "cifar10", "--data-root", "{tmp}/data"],
        ("data set 'cifar10': nothing usable at {tmp}/data/cifar10/cifar10_jpeg_full.npz",), 1,
        _npz("cifar10_jpeg_full.npz", b"PK\x03\x04" + bytes(64))),
    "train-cifar10-npz-without-arrays": Case(
        [*TRAIN, "--dataset", "cifar10", "--data-root", "{tmp}/data"],
        ("data set 'cifar10': nothing usable at {tmp}/data/cifar10/cifar10_lossless_subset.npz",), 1,
        _npz("cifar10_lossless_subset.npz", None)),
    # train: a damaged run folder
    "run-config-not-yaml": Case([*TRAIN], ("{run}/config.yaml is not valid YAML "
                                           "(while parsing a flow sequence at line 1, column 6;",), 1,
                                _write("config.yaml", "key: [unclosed\n")),
    "run-config-other-run": Case([*TRAIN], ("{run}/config.yaml holds a different configuration",), 1,
                                 _write("config.yaml", "config: {epochs: 2}\n")),
    "run-config-no-config": Case([*TRAIN], ("{run}/config.yaml holds no run configuration",), 1,
                                 _write("config.yaml", "key: 1\n")),
    "run-final-list": Case([*TRAIN], ("{run}/final.json holds list [], not the mapping",), 1,
                           _write("final.json", "[]\n")),
    "run-final-not-json": Case([*TRAIN], ("{run}/final.json is not valid JSON",), 1, _write("final.json", "{\n")),
    "run-metrics-not-json": Case([*TRAIN], ("{run}/metrics.jsonl is not one JSON row per line",), 1,
                                 _write("metrics.jsonl", "{\"epoch\": 1}\n{oops\n")),
    "run-metrics-missing-row": Case([*TRAIN], ("{run}/metrics.jsonl has 1 row(s) for a finished run of 2 epoch(s)",),
                                    1, _first_metrics_row_only),
    "run-crafted-checkpoint": Case([*TRAIN, *LEN], ("refusing to load {run}/checkpoint.pt", "Delete it and retrain"),
                                   1, _crafted_checkpoint),
    "run-truncated-checkpoint": Case([*TRAIN, *LEN], ("cannot read {run}/checkpoint.pt: the file is truncated",), 1,
                                     _truncated_checkpoint),
    "run-damaged-baseline": Case([*TRAIN, "--method", "focusnet"],
                                 ("{run}/model.pt does not match the sha256", "to retrain, or restore"), 1,
                                 _flip_a_byte("model.pt")),
    # experiments
    "experiments-unknown-artefact": Case([*EXPERIMENTS, "table99"], ("no plan for 'table99'; known: ",)),
    "experiments-unknown-profile": Case([*EXPERIMENTS, "table2", "--profile", "nosuch"], ("unknown profile 'nosuch'",
                                                                                           "known profiles: ")),
    "experiments-profile-traversal": Case([*EXPERIMENTS, "table2", "--profile", "../../x"],
                                          ("profile must be a plain name", "'../../x'")),
    "experiments-seed-twice": Case([*EXPERIMENTS, "table2", "--profile", "smoke", "--seeds", "0", "0"],
                                   ("parameter 'seeds' names 0 more than once",)),
    "experiments-dataset-twice": Case([*EXPERIMENTS, "table2", "--profile", "smoke", "--dataset", "digits", "digits"],
                                      ("parameter 'dataset' names digits more than once",)),
    "experiments-unknown-row": Case([*EXPERIMENTS, "table2", "--profile", "smoke", "--rows", "ce", "nosuch"],
                                    ("unknown row(s) nosuch for table2; known: ce, dropmax, focusnet",)),
    "experiments-unknown-stop": Case([*EXPERIMENTS, "fig4", "--profile", "smoke", "--stops", "999"],
                                     ("unknown stop(s) 999.0 for fig4; known: ",)),
    "experiments-stops-outside-fig4": Case([*EXPERIMENTS, "table2", "--stops", "1"], ("--stops applies to fig4 only",)),
    "experiments-zero-threads": Case([*EXPERIMENTS, "table2", "--profile", "smoke", "--threads", "0"],
                                     ("threads must be >= 1",)),
    "experiments-unknown-device": Case([*EXPERIMENTS, "table2", "--profile", "smoke", "--device", "nosuch"],
                                       ("device must be 'auto' or a torch device",)),
    "experiments-missing-gpu-check": Case([*EXPERIMENTS, "table2", "--plan", "--gpu-check", "{tmp}/none.json"],
                                          ("cannot read the GPU check {tmp}/none.json", "No such file")),
    "experiments-missing-data-root": Case([*EXPERIMENTS, "table2", "--dataset", "mnist", "--data-root", "{tmp}/data"],
                                          ("data set 'mnist': nothing usable at {tmp}/data",), 1, _empty_data_root),
    "experiments-profile-not-yaml": Case([*EXPERIMENTS, "table2", "--profile", "mine"],
                                         ("{tmp}/params/mine.yaml is not valid YAML "
                                          "(while parsing a flow sequence at line 2, column 10;",), 2,
                                         _profile("defaults:\n  seeds: [0, 1\n"), OWN_PARAMS),
    "experiments-profile-not-a-mapping": Case([*EXPERIMENTS, "table2", "--profile", "mine"],
                                              ("{tmp}/params/mine.yaml: defaults must be a mapping",), 2,
                                              _profile("defaults: [seeds, 0]\n"), OWN_PARAMS),
    "experiments-profile-method-kwargs-type": Case(
        [*EXPERIMENTS, "table2", "--profile", "mine"],
        ("bad hyper-parameter for method 'focusnet': alpha must be a number, got 'abc'",), 2,
        _profile("defaults: {dataset: digits, methods: [focusnet], method_kwargs: {focusnet: {alpha: abc}}}\n"),
        OWN_PARAMS),
    "experiments-committed-run-damaged": Case(
        [*EXPERIMENTS, "table2", "--dataset", "mnist", "--seeds", "0", "--rows", "ce", "--plan"],
        ("{results}/" + COMMITTED + "/final.json holds list [], not the mapping",), 2,
        lambda results, tmp: (results / COMMITTED / "final.json").write_text("[]")),
    # book
    "book-unknown-notebook": Case([*BOOK, "--only", "nosuch"], ("unknown notebook(s) ['nosuch']",), 1),
    "book-profile-traversal": Case([*BOOK, "--profile", "../../x"], ("profile must be a plain name",), 1),
    "book-profile-not-yaml": Case([*BOOK, "--profile", "mine"], ("{tmp}/params/mine.yaml is not valid YAML",), 1,
                                  _profile("defaults: {seeds: [0\n"), OWN_PARAMS),
    "book-profile-unknown-parameter": Case(
        [*BOOK, "--profile", "mine", "--only", "table2"],
        ("params for notebook 'table2' name unknown parameter(s) ['seedz']",), 1,
        _profile("defaults: {profile: smoke}\nnotebooks:\n  table2: {seedz: [0]}\n"), OWN_PARAMS),
}
#: What each CLI is given besides the case's own arguments: the results folder, the device, one thread.
COMMON = {"train": [*TINY_ARGS, "--results-dir", "{results}"],
          "experiments": ["--results-dir", "{results}", "--device", "cpu"],
          "book": ["--results-dir", "{results}", "--build-dir", "{tmp}/build", "--device", "cpu"]}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A results folder: one committed full-protocol run, and :data:`TINY` finished with its checkpoint and weights."""
    results = tmp_path_factory.mktemp("template") / "results"
    shutil.copytree(REPO / "results" / COMMITTED, results / COMMITTED)
    assert run(TINY, runtime=Runtime(device="cpu", results_dir=str(results), quiet=True, threads=1)).finished
    return results


@pytest.fixture
def results(template, tmp_path) -> Path:
    """A private copy of :func:`template`, free to damage."""
    shutil.copytree(template, tmp_path / "results")
    return tmp_path / "results"


def snapshot(root: Path) -> dict[str, str | None]:
    """Every file's sha256 and every folder (``None``) under ``root``, by relative path."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None
            for p in sorted(root.rglob("*"))}


def run_command(argv: list[str], tmp: Path, results: Path, env: dict[str, str], timeout: int = 300):
    """Run ``argv`` from the checkout with its own focuslib, one thread, and the store at ``results``."""
    environ = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "FOCUSLIB_RESULTS": str(results),
               "FOCUSLIB_DATA": str(tmp / "no-data"), **env}
    return subprocess.run(argv, cwd=REPO, env=environ, capture_output=True, text=True, timeout=timeout,
                          check=False)


def fill(text: str, results: Path, tmp: Path) -> str:
    return text.format(results=results, tmp=tmp, run=_run_dir(results))


@pytest.mark.parametrize("name", CASES)
def test_a_bad_input_is_one_clear_error_and_changes_nothing(name, results, tmp_path):
    case = CASES[name]
    if case.prepare is not None:
        case.prepare(results, tmp_path)
    before = snapshot(results)
    cli = case.argv[2].rsplit(".", 1)[-1]
    argv = [fill(a, results, tmp_path) for a in [*case.argv[:3], *COMMON[cli], *case.argv[3:]]]
    env = {k: fill(v, results, tmp_path) for k, v in case.env.items()}
    done = run_command(argv, tmp_path, results, env)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ") or ": error: " in line]
    assert len(errors) == 1, done.stderr[-3000:]
    for fragment in case.message:
        assert fill(fragment, results, tmp_path) in errors[0], errors[0]
    assert done.returncode == case.code, errors[0]
    assert snapshot(results) == before  # byte for byte; no run folder (nor any other) left behind
    assert not (tmp_path / "build").exists() and not (tmp_path / "pwned").exists()
    assert not (tmp_path.parent / "x").exists()  # where --results-dir {results} --profile ../../x would write


# -- plain papermill: it re-raises a notebook's error with a traceback of its own code (not ours, and out of
# our hands); the notebook's error is one line of it, and nothing was written -------------------------------
NOTEBOOK_CASES = {
    "papermill-seed-twice": (["-p", "seeds", "[0, 0]"], "ValueError: parameter 'seeds' names 0 more than once"),
    "papermill-unknown-dataset": (["-p", "dataset", "nosuch"], "UnknownNameError: unknown data set 'nosuch'"),
    "papermill-profile-traversal": (["-p", "profile", "../../x"], "ValueError: profile must be a plain name"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOK_CASES)
def test_a_bad_notebook_parameter_stops_the_notebook_before_it_trains(name, results, tmp_path):
    args, message = NOTEBOOK_CASES[name]
    before = snapshot(results)
    argv = [sys.executable, "-m", "papermill", str(REPO / "notebooks" / "table2.ipynb"), str(tmp_path / "out.ipynb"),
            "-p", "results_dir", str(results), "-p", "device", "cpu", *args]
    done = run_command(argv, tmp_path, results, {})
    assert done.returncode == 1
    assert [line for line in done.stderr.splitlines() if line.startswith(message)], done.stderr[-3000:]
    assert snapshot(results) == before


# -- a write killed mid-way ----------------------------------------------------------------
@pytest.mark.slow  # two trainings of 64 digits, each a fresh process
def test_a_write_killed_mid_way_leaves_no_tmp_file_once_the_run_is_resumed(tmp_path):
    results = tmp_path / "results"
    argv = [*TINY_ARGS, "--epochs", "3", "--results-dir", str(results)]
    cfg = TINY.replace(epochs=3)
    run_dir = results / cfg.profile / f"{cfg.label()}-{cfg.key()}"
    # the train CLI, dying (as by kill -9) between writing epoch 2's checkpoint and renaming it into place
    killer = ("import os, runpy, sys\n"
              "from focuslib import store\n"
              "rename = os.replace\n"
              "def replace(src, dst):\n"
              "    if str(dst).endswith('checkpoint.pt'):\n"
              f"        if len(open({str(run_dir / 'metrics.jsonl')!r}).readlines()) == 2:\n"
              "            os._exit(137)\n"
              "    rename(src, dst)\n"
              "store.os.replace = replace\n"
              "sys.argv[0] = 'focuslib.train'\n"
              "runpy.run_module('focuslib.train', run_name='__main__')\n")
    killed = run_command([sys.executable, "-c", killer, *argv], tmp_path, results, {})
    assert killed.returncode == 137, killed.stderr[-2000:]
    left = sorted(p.name for p in run_dir.glob("*.tmp"))
    assert left and all(name.startswith(".checkpoint.pt.") for name in left)  # the kill left its temporary file
    resumed = run_command([*TRAIN, *argv], tmp_path, results, {})
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming digits-lenet5-ce-s0-e3 at epoch 2/3" in resumed.stderr
    assert sorted(results.rglob("*.tmp")) == []
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == 3 and (run_dir / "final.json").exists()
