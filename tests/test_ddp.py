"""Several processes through torch's DistributedDataParallel (gloo on the CPU), launched by torchrun (issue 24)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from focuslib.train import load_torch

ARGS = ["--dataset", "digits", "--model", "lenet5", "--milestones", "", "--batch-size", "64", "--train-limit", "256",
        "--test-limit", "128", "--device", "cpu", "--threads", "1", "--quiet"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _train(results: Path, epochs: int, procs: int) -> dict:
    launch = ([sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={procs}", "--master_addr=127.0.0.1",
               f"--master_port={_free_port()}", "-m", "focuslib.train"] if procs > 1
              else [sys.executable, "-m", "focuslib.train"])
    done = subprocess.run([*launch, *ARGS, "--epochs", str(epochs), "--results-dir", str(results)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout[done.stdout.index("{"):])


@pytest.mark.slow
def test_two_gloo_processes_equal_one_process_of_the_same_global_batch_and_resume(tmp_path):
    one = _train(tmp_path / "one", 2, 1)
    _train(tmp_path / "two", 1, 2)  # one epoch, then a longer run continues from its checkpoint
    two = _train(tmp_path / "two", 2, 2)
    for key in ("train_loss", "train_top1", "test_top1", "test_loss"):
        assert two[key] == pytest.approx(one[key], rel=1e-4, abs=1e-4), key
    a = load_torch(Path(one["run_dir"]) / "model.pt")["model"]
    b = load_torch(Path(two["run_dir"]) / "model.pt")["model"]
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
    config = (Path(two["run_dir"]) / "config.yaml").read_text()
    assert "world_size: 2" in config and "continued_from" in config
