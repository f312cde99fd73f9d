"""The built book in a real browser (issue 20): headless Chromium (Debian's ``chromium`` package,
driven by Playwright's Python API) opens every page of the smoke book at a desktop and a phone
size and checks what a reader meets: no JavaScript error, every image loaded, no sideways
scrolling of the page itself, equations rendered, the findings table complete, every link inside
the book resolving, no parameters cell and no code input shown unless the reader opens it.
Screenshots go next to the build (``_build/smoke/_build/screenshots``).

The book is ``_build/smoke/_build/html`` (``python -m focuslib.book --profile smoke``); the test
builds it when it is absent (slow) and skips, saying why, only when it cannot.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
#: The built book (``FOCUSLIB_BOOK_HTML`` to check a build elsewhere, e.g. ``--build-dir``).
HTML = Path(os.environ.get("FOCUSLIB_BOOK_HTML", REPO / "_build" / "smoke" / "_build" / "html"))
SHOTS = HTML.parent / "screenshots"
CHROMIUM = os.environ.get("FOCUSLIB_CHROMIUM", "/usr/bin/chromium")
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}
#: Pages whose notebooks draw figures: each must show at least one (a kernel on the Agg backend
#: once dropped every figure of the book without any other check noticing).
FIGURE_PAGES = {"notebooks/fig3.html", "notebooks/fig4.html", "notebooks/status.html", "notebooks/table2.html"}

playwright_api = pytest.importorskip("playwright.sync_api",
                                     reason="playwright is not installed: pip install -e '.[test]'")


def toc_pages() -> list[str]:
    """Every page of the book, as the HTML path the table of contents gives it."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [f"{f}.html" for f in files]


# -- what is checked on one page (the same code checks the synthetic page that must fail) ------------

#: JavaScript returning, for the loaded page: how far it scrolls sideways, the images that did not
#: load, the code inputs and parameters cells a reader sees without opening anything, and the
#: rendered equations.
PROBE = """() => {
  const doc = document.documentElement;
  const visible = el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'
      && !el.closest('details:not([open])'); };
  return {
    overflow: Math.max(doc.scrollWidth, document.body.scrollWidth) - window.innerWidth,
    widest: [...document.querySelectorAll('body *')]
              .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
              .slice(0, 3).map(e => e.tagName + '.' + e.className),
    brokenImages: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
    images: document.images.length,
    codeInputs: [...document.querySelectorAll('.cell_input, div.cell div.highlight-ipython3')].filter(visible).length,
    parameterCells: [...document.querySelectorAll('.tag_parameters, .tag_injected-parameters')].length,
    math: document.querySelectorAll('mjx-container').length,
    links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    // tables wider than the column that holds them (they would scroll sideways in their output)
    wideTables: [...document.querySelectorAll('table')].filter(visible).map(t => {
      let c = t.parentElement;
      while (c && c !== document.body && !['auto', 'scroll'].includes(getComputedStyle(c).overflowX)) {
        c = c.parentElement;
      }
      const column = (c && c !== document.body) ? c.clientWidth : doc.clientWidth;
      return {width: Math.round(t.getBoundingClientRect().width), column,
              head: [...t.querySelectorAll('th')].map(h => h.innerText.trim()).filter(Boolean).slice(0, 4).join(' | ')};
    }).filter(t => t.width > t.column + 1),
  };
}"""


def page_problems(page, url: str, root: Path | None = None, wait_for: str | None = None,
                  tables_fit: bool = True) -> tuple[list[str], dict]:
    """Load ``url`` in ``page`` and return (problems found, the raw probe). ``root``: the built
    HTML folder, to resolve the page's links inside the book (skipped without it); ``wait_for``: a
    selector to wait for after loading (MathJax typesets after the load event); ``tables_fit``:
    whether every table must fit its column (at a desktop width; on a phone a table may scroll
    inside its output)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.goto(url, wait_until="networkidle")
    if wait_for:
        page.wait_for_selector(wait_for, timeout=30_000)
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(200)
    probe = page.evaluate(PROBE)
    problems = list(errors)
    if probe["overflow"] > 1:
        problems.append(f"the page scrolls sideways by {probe['overflow']} px (e.g. {probe['widest']})")
    problems += [f"image not loaded: {src}" for src in probe["brokenImages"]]
    if tables_fit:
        problems += [f"a table is {t['width']} px wide in a {t['column']} px column ({t['head']})"
                     for t in probe["wideTables"]]
    if probe["codeInputs"]:
        problems.append(f"{probe['codeInputs']} code input(s) visible without opening them")
    if probe["parameterCells"]:
        problems.append(f"{probe['parameterCells']} parameters cell(s) on the page")
    if root is not None:
        problems += broken_links(url, probe["links"], root)
    return problems, probe


def broken_links(url: str, hrefs: list[str], root: Path) -> list[str]:
    """The links of a page at ``url`` that point inside the book but to no file, or to an anchor
    the target page lacks."""
    base = urlparse(url)
    broken = []
    for href in dict.fromkeys(hrefs):
        target = urlparse(urljoin(url, href))
        if target.scheme not in ("http", "https", "file") or target.netloc != base.netloc:
            continue  # mailto:, javascript:, other sites
        path = Path(unquote(target.path)) if target.scheme == "file" else root / unquote(target.path).lstrip("/")
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            broken.append(f"link to a missing page: {href}")
        elif target.fragment and path.suffix == ".html":
            text = path.read_text(errors="replace")
            if not re.search(rf'id=["\']{re.escape(unquote(target.fragment))}["\']', text):
                broken.append(f"link to a missing anchor: {href}")
    return broken


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set FOCUSLIB_CHROMIUM)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def book() -> Path:
    """The built smoke book, built here if absent; skipped with the reason if it cannot be made."""
    if not (HTML / "index.html").exists():
        if shutil.which("jupyter-book") is None and not Path(sys.executable).with_name("jupyter-book").exists():
            pytest.skip("no built book at _build/smoke/_build/html and jupyter-book is not installed to build it")
        proc = subprocess.run([sys.executable, "-m", "focuslib.book", "--profile", "smoke"], cwd=REPO,
                              capture_output=True, text=True)
        if proc.returncode != 0 or not (HTML / "index.html").exists():
            pytest.skip(f"no built book at {HTML} and building it failed:\n{proc.stderr[-2000:]}")
    return HTML


@pytest.fixture(scope="module")
def server(book):
    handler = functools.partial(_QuietHandler, directory=str(book))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output readable
        pass


# -- the tests -----------------------------------------------------------------------------------


def test_a_page_made_to_overflow_or_to_show_code_fails_the_checks(browser, tmp_path):
    """The checks can fail: a synthetic page with an element wider than the window, a visible
    code input, a parameters cell, a broken image and a broken link is reported on each count."""
    (tmp_path / "ok.html").write_text("<html><body><p id='here'>fits</p><a href='ok.html#here'>ok</a></body></html>")
    (tmp_path / "bad.html").write_text(
        "<html><body><div style='width:3000px'>too wide</div>"
        "<div style='width:300px; overflow-x:auto'>"
        "<table style='width:900px'><tr><th>wide table</th></tr></table></div>"
        "<div class='cell tag_parameters'><div class='cell_input'>profile = None</div></div>"
        "<img src='missing.png'><a href='nowhere.html'>x</a><a href='ok.html#gone'>y</a></body></html>")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    good, _ = page_problems(page, (tmp_path / "ok.html").as_uri(), tmp_path)
    assert good == []
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    bad, probe = page_problems(page, (tmp_path / "bad.html").as_uri(), tmp_path)
    assert probe["overflow"] > 1000 and probe["codeInputs"] == 1 and probe["parameterCells"] == 1
    text = "\n".join(bad)
    assert [t["width"] for t in probe["wideTables"]] == [900]
    for expected in ("scrolls sideways", "a table is 900 px wide in a 300 px column", "code input", "parameters cell",
                     "image not loaded", "missing page: nowhere.html", "missing anchor: ok.html#gone"):
        assert expected in text


@pytest.mark.slow
def test_an_overflowing_element_injected_into_a_built_page_is_reported(browser, server, book):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(server + "notebooks/findings.html", wait_until="networkidle")
    page.evaluate("() => { const d = document.createElement('div'); d.style.width = '2600px'; d.textContent = 'wide';"
                  " document.querySelector('article, main, body').appendChild(d); }")
    probe = page.evaluate(PROBE)
    assert probe["overflow"] > 1000


@pytest.mark.slow
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_every_page_reads_well_in_chromium(browser, server, book, size):
    from focuslib.report import VERDICTS, claims

    width, height = VIEWPORTS[size]
    SHOTS.mkdir(parents=True, exist_ok=True)
    found = {}
    for rel in toc_pages():
        assert (book / rel).exists(), f"{rel} is in _toc.yml but was not built"
        page = browser.new_page(viewport={"width": width, "height": height})
        intro = rel.endswith("intro.html")
        problems, probe = page_problems(page, server + rel, book, wait_for="mjx-container" if intro else None,
                                        tables_fit=size == "desktop")
        if intro:
            assert probe["math"] > 0, "no equation rendered on the intro"
            first_screen = page.inner_text("article") if page.query_selector("article") else page.inner_text("body")
            assert "no full-protocol run yet" not in first_screen.split("This book re-runs")[0]
        if rel.endswith("findings.html"):
            rows = page.query_selector_all("table.findings-table tbody tr")
            verdicts = [r.get_attribute("data-verdict") for r in rows]
            assert len(rows) == len(claims()), f"{len(rows)} rows for {len(claims())} claims"
            assert set(verdicts) <= set(VERDICTS)
        page.screenshot(path=str(SHOTS / f"{rel.replace('/', '_')[:-5]}-{width}x{height}.png"), full_page=True)
        page.close()
        if rel in FIGURE_PAGES and not probe["images"]:
            problems.append("no figure on a page whose notebook draws one")
        if problems:
            found[rel] = problems
    assert not found, "\n".join(f"{rel}: {p}" for rel, ps in found.items() for p in ps)
