"""benchmarks/gpu_check.py's code paths on the CPU, at tiny sizes (issue 24); figures are not checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_check_runs_every_speed_mode_on_the_cpu(tmp_path):
    out = tmp_path / "gpu_check.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--device", "cpu",
                           "--dataset", "digits", "--model", "lenet5", "--steps", "2", "--batch-size", "16",
                           "--out", str(out)], capture_output=True, text=True, timeout=1200, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    doc = json.loads(out.read_text())
    modes = {"fp32", "bf16+channels_last", "bf16+channels_last+compile"}
    expected = {(m, mode) for m in ("ce", "focusnet") for mode in modes}
    assert {(r["method"], r["mode"]) for r in doc["results"]} == expected
    failed = [(r["mode"], r["method"], r.get("error")) for r in doc["results"] if not r["ok"]]
    assert not failed
    assert all(r["images_per_s"] > 0 and r["images"] == 32 and r["train_flops_per_image"] > 0 for r in doc["results"])
    assert set(doc["focusnet_over_ce"]) == modes
    assert "FocusNet/ce time ratio" in done.stdout


def test_gpu_check_without_a_gpu_says_how_to_run_it(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--device", "cuda"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    if done.returncode == 0:
        pytest.skip("this machine has a CUDA GPU")
    assert done.returncode == 2 and "no CUDA GPU here" in done.stderr and "Traceback" not in done.stderr
