"""Shared fixtures: a private results store per test, and the location of ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


def shared_data() -> Path | None:
    """``$FOCUSLIB_TEST_DATA`` or ``../shared/data`` beside the checkout, when present."""
    env = os.environ.get("FOCUSLIB_TEST_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data")
    return next((p for p in candidates if (p / "MANIFEST.md").exists()), None)


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    return tmp_path / "results"


@pytest.fixture
def one_thread():
    """Tiny networks run much faster on one thread than on two contended CI cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def slurm_cluster() -> str:
    """A running one-node SLURM cluster (``.ci/slurm_up.sh``, which needs root); its partition.

    Skips, with the reason, only where SLURM's packages are not installed and cannot be (not
    root, no apt-get); with ``FOCUSLIB_REQUIRE_SLURM=1`` (CI) it fails instead."""
    import shutil
    import subprocess

    partition = os.environ.get("SLURM_TEST_PARTITION", "debug")
    installed = all(shutil.which(t) for t in ("slurmctld", "slurmd", "munged", "sbatch"))
    if not installed and (os.geteuid() != 0 or not shutil.which("apt-get")):
        reason = "SLURM (Debian's slurmctld, slurmd, munge) is not installed, and installing it needs root and apt-get"
        if os.environ.get("FOCUSLIB_REQUIRE_SLURM") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    if os.geteuid() != 0:  # installed: use the cluster if it is up
        up = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True).stdout.split()
        if "idle" not in up and "mix" not in up:
            pytest.fail("SLURM is installed but not up; start it as root with .ci/slurm_up.sh")
        return partition
    done = subprocess.run([str(REPO / ".ci" / "slurm_up.sh")], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        apt_failed = not shutil.which("slurmctld")
        message = f".ci/slurm_up.sh failed: {done.stderr.strip()[-800:]}"
        if apt_failed and os.environ.get("FOCUSLIB_REQUIRE_SLURM") != "1":
            pytest.skip(f"SLURM's packages could not be installed ({message})")
        pytest.fail(message)
    return partition
