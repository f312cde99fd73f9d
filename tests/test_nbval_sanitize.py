"""The nbval sanitizers (tests/nbval_sanitize.cfg) mask smoke numbers and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from nbval.plugin import get_sanitize_patterns

CONFIG = Path(__file__).with_name("nbval_sanitize.cfg")


def sanitize(text: str) -> str:
    patterns = get_sanitize_patterns(CONFIG.read_text())
    assert len(patterns) == 3, "a rule of tests/nbval_sanitize.cfg was not read (regex:/replace: lines)"
    for regex, replace in patterns:
        text = re.sub(regex, replace, text)
    return text


def test_smoke_numbers_are_masked_and_alignment_ignored() -> None:
    ours = "  FocusNet (Ours)   digits lenet5      —  84.65 ± 8.56 (n=2) smoke (not a reproduction)       3\n"
    ci = "  FocusNet (Ours)   digits lenet5      — 78.87 ± 16.33 (n=2) smoke (not a reproduction)       3\n"
    assert sanitize(ours) == sanitize(ci) == "_FocusNet_(Ours)_digits_lenet5_—_#_±_#_(n=2)_smoke\n"


def test_smoke_rows_keep_their_labels_and_seed_count() -> None:
    two = "Baseline digits lenet5 — 83.52 ± 6.17 (n=2) smoke (not a reproduction) 3\n"
    one = "Baseline digits lenet5 — 83.52 (n=1) smoke (not a reproduction) 3\n"
    other = "DropMax digits lenet5 — 83.52 ± 6.17 (n=2) smoke (not a reproduction) 3\n"
    assert sanitize(two) != sanitize(one)
    assert sanitize(two) != sanitize(other)
    assert sanitize(two + two) != sanitize(two)


def test_full_protocol_numbers_are_compared_digit_for_digit() -> None:
    stored = "FocusNet (Ours)    mnist lenet5  99.56  98.88 ± 0.18 (n=5)              full protocol     200\n"
    changed = "FocusNet (Ours)    mnist lenet5  99.56  98.89 ± 0.18 (n=5)              full protocol     200\n"
    assert sanitize(stored) != sanitize(changed)
    assert "98.88" in sanitize(stored)
    mixed = "digits smoke 2.0 FocusNet on it 14.08 1 1 NaN\nmnist paper 1.0 FocusNet on it 98.62 5 0 98.62\n"
    assert sanitize(mixed) == "digits_smoke\nmnist_paper_1.0_FocusNet_on_it_98.62_5_0_98.62\n"
