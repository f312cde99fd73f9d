"""Build the book: execute every notebook with papermill, then Jupyter Book over the copies.

    python -m focuslib.book --profile smoke            # minutes on a CPU, the embedded digits data
    python -m focuslib.book --profile paper --only table7 --data-root ~/data

The sources in ``notebooks/`` are never overwritten: executed copies go to
``_build/<profile>/src/notebooks/``, the HTML to ``_build/<profile>/html/``. Jupyter Book
is configured (``_config.yml``) not to execute anything itself.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from . import experiments

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
#: Parameters the runner passes to every notebook that declares them (from the command line).
RUNTIME_PARAMETERS = ("data_root", "results_dir", "device")


class NotebookFailed(RuntimeError):
    """A notebook raised while executing; the message names it and the failing cell's error."""


def load_profile(profile: str) -> dict[str, Any]:
    """``params/<profile>.yaml`` (:func:`focuslib.experiments.load_profile`); a bad profile ends the build."""
    try:
        return experiments.load_profile(profile)
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None


def toc_notebooks() -> list[str]:
    """Names of the notebooks the book's table of contents lists, in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [Path(f).name for f in files if f.startswith("notebooks/")]


def declared_parameters(path: Path) -> dict[str, Any]:
    import papermill  # noqa: PLC0415

    return dict(papermill.inspect_notebook(str(path)))


def notebook_parameters(name: str, profile: dict[str, Any], runtime: dict[str, Any]) -> dict[str, Any]:
    """The parameters for ``name``: the profile's defaults and its own entry, checked
    against the notebook's ``parameters`` cell (an unknown name is an error), plus the
    runtime parameters the notebook declares."""
    declared = declared_parameters(NOTEBOOKS / f"{name}.ipynb")
    own = dict(profile["notebooks"].get(name) or {})
    unknown = sorted(set(own) - set(declared))
    if unknown:
        raise SystemExit(
            f"error: params for notebook {name!r} name unknown parameter(s) {unknown}; "
            f"{name}.ipynb declares: {', '.join(sorted(declared))}"
        )
    params = {k: v for k, v in profile["defaults"].items() if k in declared}
    params.update(own)
    params.update({k: v for k, v in runtime.items() if v is not None and k in declared})
    return params


#: The backend the notebooks' kernels plot with: inline, so every figure lands in the executed
#: notebook whatever the caller's ``MPLBACKEND`` (CI exports Agg for its headless tests; a kernel on
#: Agg drops every figure a cell leaves open, and the book then has none).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


@contextlib.contextmanager
def inline_figures() -> Iterator[None]:
    """Start kernels inside this block with :data:`INLINE_BACKEND` (their environment is ours)."""
    old = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = INLINE_BACKEND
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = old


def execute(name: str, params: dict[str, Any], out_dir: Path, cwd: Path) -> Path:
    """Run one notebook with papermill into ``out_dir``; a failure raises :class:`NotebookFailed`."""
    import papermill  # noqa: PLC0415
    from papermill.exceptions import PapermillExecutionError  # noqa: PLC0415

    out = out_dir / f"{name}.ipynb"
    try:
        with inline_figures():
            papermill.execute_notebook(str(NOTEBOOKS / f"{name}.ipynb"), str(out), parameters=params,
                                       cwd=str(cwd), progress_bar=False, kernel_name="python3")
    except PapermillExecutionError as err:
        raise NotebookFailed(f"notebook {name!r} failed in cell {err.exec_count}: {err.ename}: {err.evalue}\n"
                             f"(the executed copy with the traceback is {out})") from None
    return out


def mathjax_dir() -> Path:
    """MathJax 3 as shipped by the ``sphinx-mathjax-offline`` package, so the HTML renders math offline."""
    from importlib.metadata import PackageNotFoundError, distribution  # noqa: PLC0415

    try:
        files = distribution("sphinx-mathjax-offline").files or []
    except PackageNotFoundError:
        raise SystemExit('error: the book needs the sphinx-mathjax-offline package: pip install -e ".[book]"') from None
    script = next(f for f in files if str(f).endswith("static/mathjax/tex-chtml.js"))
    return Path(script.locate()).parent


def refresh_source(name: str) -> None:
    """Execute ``notebooks/<name>.ipynb`` with its own default parameters and store the outputs
    in it (the outputs nbval compares against); the paired ``.py`` is unchanged."""
    import nbformat  # noqa: PLC0415
    from nbclient import NotebookClient  # noqa: PLC0415
    from nbclient.exceptions import CellExecutionError  # noqa: PLC0415

    path = NOTEBOOKS / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    try:
        with inline_figures():
            NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    except CellExecutionError as err:
        raise NotebookFailed(f"notebook {name!r} failed: {str(err).strip().splitlines()[-1]}") from None
    nbformat.write(nb, path)


#: Cell tags that already decide how a code cell shows; :func:`reader_view` leaves such cells alone.
SHOWN_AS = {"remove-cell", "remove_cell", "remove-input", "remove_input", "hide-input", "hide-cell", "hide_input"}
#: Marks the cell :func:`reader_view` appends, so that running it twice appends it once.
RERUN_MARK = "focuslib-rerun"


def rerun_markdown(name: str, declared: Sequence[str] | None = None) -> str:
    """The "Re-run this page" box of notebook ``name`` (MyST Markdown): the book CLI for this page
    in both profiles and the plain papermill command, with ``--data-root`` / ``data_root`` where the
    notebook reads data. ``declared``: the notebook's parameters (default: its ``parameters`` cell)."""
    declared = list(declared if declared is not None else declared_parameters(NOTEBOOKS / f"{name}.ipynb"))
    data = " --data-root DIR" if "data_root" in declared else ""
    pm_data = " -p data_root DIR" if "data_root" in declared else ""
    lines = [
        f"python -m focuslib.book --profile paper --only {name}{data}   # this page, the paper's full protocol",
        f"python -m focuslib.book --profile smoke --only {name}   # this page, smoke profile (CPU, minutes)",
        f"papermill notebooks/{name}.ipynb out.ipynb -p profile paper{pm_data}   # the notebook alone",
    ]
    note = ("`DIR` holds your data sets (see the README); finished runs are read from the results store and only "
            "missing ones are trained. " if data else "")
    return ("::::{admonition} Re-run this page\n:class: tip rerun-page\n\n"
            f"{note}From a checkout of this repository with `pip install -e \".[all]\"`:\n\n"
            "```bash\n" + "\n".join(lines) + "\n```\n::::")


def reader_view(path: Path, name: str) -> None:
    """Prepare an executed notebook for readers, in place: the ``parameters`` cell and papermill's
    injected one are removed from the page (tag ``remove-cell``), every other code cell shows its
    output with its code behind the theme's toggle (``hide-input``), and the page ends with the
    "Re-run this page" box (:func:`rerun_markdown`). Running it twice changes nothing more."""
    import nbformat  # noqa: PLC0415

    nb = nbformat.read(path, as_version=4)
    declared: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = list(cell.metadata.get("tags", []))
        if "parameters" in tags:
            from .notebook import assigned_names  # noqa: PLC0415

            declared = assigned_names(cell.source)
        if {"parameters", "injected-parameters"} & set(tags):
            tags += [] if "remove-cell" in tags else ["remove-cell"]
        elif not SHOWN_AS & set(tags):
            tags.append("hide-input")
        cell.metadata["tags"] = tags
    if not any(c.metadata.get(RERUN_MARK) for c in nb.cells):
        nb.cells.append(nbformat.v4.new_markdown_cell(rerun_markdown(name, declared), metadata={RERUN_MARK: True}))
    nbformat.write(nb, path)


def stage(profile: str, build: Path) -> Path:
    """Copy the book's configuration and pages into the build folder."""
    src = build / "src"
    src.mkdir(parents=True, exist_ok=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "book", src / "book", dirs_exist_ok=True)
    shutil.copytree(ROOT / "_static", src / "_static", dirs_exist_ok=True)  # the book's CSS
    (src / "notebooks").mkdir(exist_ok=True)
    if not (src / "_mathjax" / "mathjax" / "MathJax.js").exists():
        shutil.copytree(mathjax_dir(), src / "_mathjax" / "mathjax", dirs_exist_ok=True)
    return src


def build_html(src: Path, build: Path) -> Path:
    exe = Path(sys.executable).with_name("jupyter-book")
    if not exe.exists():
        exe = Path(shutil.which("jupyter-book") or "jupyter-book")
    cmd = [str(exe), "build", str(src), "--path-output", str(build), "--builder", "html"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"error: Jupyter Book failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return build / "_build" / "html" / "index.html"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m focuslib.book", description=__doc__.split("\n\n")[0])
    p.add_argument("--profile", default="smoke", help="a params/<profile>.yaml (smoke, paper)")
    p.add_argument("--only", nargs="+", metavar="NAME",
                   help="execute only these notebooks (others keep their last executed copy)")
    p.add_argument("--data-root", default=os.environ.get("FOCUSLIB_DATA"), help="root of your data sets")
    p.add_argument("--results-dir", default=None, help="results store (default: $FOCUSLIB_RESULTS or ./results)")
    p.add_argument("--device", default=None, help="auto, cpu, cuda, ...")
    p.add_argument("--build-dir", default=str(ROOT / "_build"), help="where executed copies and HTML go")
    p.add_argument("--no-html", action="store_true", help="execute the notebooks only")
    p.add_argument("--refresh-sources", action="store_true",
                   help="instead of building: re-execute the source notebooks with their defaults (the smoke "
                        "profile) and keep the outputs in them, for nbval's regression checks")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    a = parse_args(argv)
    profile = load_profile(a.profile)
    names = toc_notebooks()
    unknown = sorted(set(a.only or []) - set(names))
    if unknown:
        raise SystemExit(f"error: unknown notebook(s) {unknown}; the book has: {', '.join(names)}")
    unknown = sorted(set(profile["notebooks"]) - set(names))
    if unknown:
        raise SystemExit(f"error: {experiments.params_dir() / a.profile}.yaml names notebook(s) {unknown} "
                         "that the book does not have")
    if a.refresh_sources:
        for name in a.only or names:
            t0 = time.perf_counter()
            try:
                refresh_source(name)
            except NotebookFailed as err:
                print(f"error: {err}", file=sys.stderr)
                return 1
            print(f"refreshed notebooks/{name}.ipynb in {time.perf_counter() - t0:.1f} s", flush=True)
        return 0
    runtime = {"data_root": a.data_root, "results_dir": a.results_dir, "device": a.device}
    todo = a.only or names
    params = {name: notebook_parameters(name, profile, runtime) for name in todo}  # all checked before any runs
    build = Path(a.build_dir).resolve() / a.profile
    src = stage(a.profile, build)
    for name in names:
        if name not in todo:
            if not (src / "notebooks" / f"{name}.ipynb").exists():
                shutil.copy2(NOTEBOOKS / f"{name}.ipynb", src / "notebooks" / f"{name}.ipynb")
            continue
        print(f"[{a.profile}] running {name} {params[name]}", flush=True)
        t0 = time.perf_counter()
        try:
            execute(name, params[name], src / "notebooks", cwd=NOTEBOOKS)
        except NotebookFailed as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print(f"[{a.profile}] {name} done in {time.perf_counter() - t0:.1f} s", flush=True)
    if a.no_html:
        return 0
    for name in names:
        reader_view(src / "notebooks" / f"{name}.ipynb", name)
    index = build_html(src, build)
    print(f"book built: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
