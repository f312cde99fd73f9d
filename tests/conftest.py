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
