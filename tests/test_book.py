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
    expected = {f"table{i}" for i in range(2, 11)} | {"fig3", "fig4", "beyond", "findings", "status"}
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
    cells = ["", params_cell, injected, "P = accept_parameters(globals())"]
    namespace = {"In": cells, "profile": None, "dataset": "mnist"}
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
    assert cub["profile"] == "paper" and cub["datasets"] == ["cub200"]
    assert cub["seeds"] == profile_params("paper", "table7")["seeds"]
    smoke = resolve_params("table7", {"profile": "smoke", "dataset": ["digits"]})
    assert smoke["epochs"] == profile_params("smoke", "table7")["epochs"]


def test_a_failing_notebook_stops_the_build_with_its_name_and_error(tmp_path, monkeypatch):
    bad = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                                          nbformat.v4.new_code_cell("raise ValueError('boom here')")])
    bad.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "broken.ipynb").write_text(nbformat.writes(bad))
    monkeypatch.setattr(book, "NOTEBOOKS", tmp_path)
    with pytest.raises(book.NotebookFailed, match="'broken'.*ValueError: boom here"):
        book.execute("broken", {}, tmp_path, cwd=tmp_path)


def test_reader_view_removes_the_parameters_hides_code_and_ends_with_the_rerun_box(tmp_path):
    cells = [nbformat.v4.new_markdown_cell("# Title"),
             nbformat.v4.new_code_cell("profile = None\ndata_root = None", metadata={"tags": ["parameters"]}),
             nbformat.v4.new_code_cell("# Parameters\nprofile = 'paper'\n", metadata={"tags": ["injected-parameters"]}),
             nbformat.v4.new_code_cell("x = 1"),
             nbformat.v4.new_code_cell("print(x)", metadata={"tags": ["remove-cell"]})]
    path = tmp_path / "table7.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    book.reader_view(path, "table7")
    book.reader_view(path, "table7")  # twice: nothing more
    nb = nbformat.read(path, as_version=4)
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert tags[1] == ["parameters", "remove-cell"] and tags[2] == ["injected-parameters", "remove-cell"]
    assert tags[3] == ["hide-input"] and tags[4] == ["remove-cell"] and tags[0] == []
    assert len(nb.cells) == 6 and nb.cells[-1].cell_type == "markdown"
    box = nb.cells[-1].source
    assert "python -m focuslib.book --profile paper --only table7 --data-root DIR" in box
    assert "papermill notebooks/table7.ipynb out.ipynb -p profile paper -p data_root DIR" in box
    assert "--data-root" not in book.rerun_markdown("table6", ["profile", "num_classes"])


def test_the_main_table_never_holds_smoke_rows_and_the_pipeline_check_never_holds_the_papers_numbers():
    import pandas as pd

    from focuslib import paper, report

    runs = pd.DataFrame([{"row": r, "dataset": d, "model": "lenet5", "seed": s, "x": None, "profile": p, "epochs": e,
                          "key": f"{r}{s}{d}", "test_top1": v}
                         for r, d, p, e, s, v in [("ce", "mnist", "paper", 200, 0, 99.0),
                                                  ("ce", "mnist", "paper", 200, 1, 99.2),
                                                  ("ce", "digits", "smoke", 3, 0, 55.5)]])
    table = report.compare(2, runs)
    main = report.beside_paper(2, table)
    assert len(main) == len(report.paper_rows(2)) and not main["data set"].str.contains("digits").any()
    cell = main[(main["method"] == "Baseline") & (main["data set"] == "mnist")].iloc[0]
    assert cell["ours (full protocol)"] == "99.10 ± 0.14 (n=2)" and cell["paper"] == paper.lookup(2, "ce", "mnist")
    assert (main.loc[main["data set"] == "cifar10", "ours (full protocol)"] == "not run yet").all()
    check = report.pipeline_check(table)
    assert check.startswith("<details") and "55.50" in check and str(paper.lookup(2, "ce", "mnist")) not in check
    assert report.pipeline_check(report.compare(2, runs[runs["profile"] == "paper"])) == ""


def test_a_figure_left_open_by_a_cell_reaches_the_executed_notebook_whatever_mplbackend(tmp_path, monkeypatch):
    """CI exports MPLBACKEND=Agg; a kernel on Agg drops every figure a cell assigns (``fig = ...``), and
    the CI book had no figures at all. The book's kernels plot inline whatever the caller sets."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([0, 1])")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "figure.ipynb").write_text(nbformat.writes(nb))
    monkeypatch.setattr(book, "NOTEBOOKS", tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    (tmp_path / "out").mkdir()
    out = nbformat.read(book.execute("figure", {}, tmp_path / "out", cwd=tmp_path), as_version=4)
    assert any("image/png" in o.get("data", {}) for o in out.cells[-1].outputs)
    import os  # noqa: PLC0415

    assert os.environ["MPLBACKEND"] == "Agg"  # the caller's setting is back
