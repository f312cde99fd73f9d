"""The book's notebooks and runner (issue 3): pairing, parameters, unknown-parameter rejection."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

from focuslib import book
from focuslib.experiments import profile_params, resolve_params
from focuslib.notebook import UnknownParameterError, accept_parameters, check_injected

REPO = Path(__file__).resolve().parents[1]
NAMES = book.toc_notebooks()


def test_toc_lists_the_papers_artefacts():
    expected = {f"table{i}" for i in range(2, 11)} | {"fig3", "fig4", "status"}
    assert set(NAMES) == expected


@pytest.mark.parametrize("name", NAMES)
def test_notebook_exists_is_paired_in_sync_and_has_parameters(name):
    ipynb, py = REPO / "notebooks" / f"{name}.ipynb", REPO / "notebooks" / f"{name}.py"
    assert ipynb.exists() and py.exists()
    nb = nbformat.read(ipynb, as_version=4)
    text = jupytext.read(py)
    assert nb.metadata.get("jupytext", {}).get("formats") == "ipynb,py:percent"
    strip = lambda n: [(c.cell_type, c.source.strip()) for c in n.cells]  # noqa: E731
    assert strip(nb) == strip(text), f"{name}.ipynb and {name}.py differ: run `jupytext --sync notebooks/{name}.ipynb`"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "profile" in book.declared_parameters(ipynb)
    follows = nb.cells[nb.cells.index(tagged[0]) + 1]
    assert "accept_parameters(globals())" in follows.source


@pytest.mark.parametrize("profile", ["smoke", "paper"])
def test_profiles_only_name_declared_parameters(profile):
    doc = book.load_profile(profile)
    for name in NAMES:
        book.notebook_parameters(name, doc, {"data_root": "/x", "results_dir": None, "device": None})


def test_runner_rejects_an_unknown_parameter():
    doc = {"defaults": {}, "notebooks": {"fig3": {"nmu_classes": 3}}}
    with pytest.raises(SystemExit, match="unknown parameter.*nmu_classes"):
        book.notebook_parameters("fig3", doc, {})


def test_notebook_helper_rejects_an_unknown_injected_parameter():
    params_cell = "profile = None\ndataset = None\n"
    injected = "# Parameters\ndataset = 'mnist'\ndatset = 'cub200'\n"
    namespace = {"In": ["", params_cell, injected, "P = accept_parameters(globals())"], "profile": None, "dataset": "mnist"}
    with pytest.raises(UnknownParameterError, match="'datset'.*accepts: dataset, profile"):
        accept_parameters(namespace)
    namespace["In"][2] = "# Parameters\ndataset = 'mnist'\n"
    assert accept_parameters(namespace) == {"profile": None, "dataset": "mnist"}
    with pytest.raises(UnknownParameterError):
        check_injected(["a"], ["a", "b"])


def test_plain_papermill_rejects_an_unknown_parameter(tmp_path):
    out = tmp_path / "out.ipynb"
    proc = subprocess.run([sys.executable, "-m", "papermill", str(REPO / "notebooks" / "fig3.ipynb"), str(out),
                           "-p", "nmu_points", "3", "--cwd", str(REPO / "notebooks")], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "UnknownParameterError" in proc.stderr + proc.stdout and "nmu_points" in proc.stderr + proc.stdout


def test_profile_defaults_follow_the_data_set():
    assert resolve_params("table7", {})["profile"] == "smoke"
    cub = resolve_params("table7", {"dataset": "cub200"})
    assert cub["profile"] == "paper" and cub["datasets"] == ["cub200"] and cub["seeds"] == profile_params("paper", "table7")["seeds"]
    assert resolve_params("table7", {"profile": "smoke", "dataset": ["digits"]})["epochs"] == profile_params("smoke", "table7")["epochs"]


def test_a_failing_notebook_stops_the_build_with_its_name_and_error(tmp_path, monkeypatch):
    bad = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                                          nbformat.v4.new_code_cell("raise ValueError('boom here')")])
    bad.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "broken.ipynb").write_text(nbformat.writes(bad))
    monkeypatch.setattr(book, "NOTEBOOKS", tmp_path)
    with pytest.raises(book.NotebookFailed, match="'broken'.*ValueError: boom here"):
        book.execute("broken", {}, tmp_path, cwd=tmp_path)
