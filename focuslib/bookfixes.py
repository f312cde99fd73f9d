"""A Sphinx extension for the book (``_config.yml``: ``sphinx.extra_extensions``): fixes of the theme
stack that the browser test (tests/test_browser.py) found as JavaScript errors on every page.

- Jupyter Book 1 loads ``sphinx_thebe``, which registers its inline configuration script once per
  read phase; a page then carries ``const THEBE_JS_URL = ...`` twice and the second copy throws
  "Identifier 'THEBE_JS_URL' has already been declared". Each page keeps one copy of every script.
"""

from __future__ import annotations

from typing import Any


def _one_of_each_script(app, pagename, templatename, context: dict[str, Any], doctree) -> None:
    seen, kept = set(), []
    for js in context.get("script_files", []):
        # the copies differ only in a filename of None against "" (an inline script)
        attributes = tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items()))
        key = (str(getattr(js, "filename", js) or ""), attributes)
        if key not in seen:
            seen.add(key)
            kept.append(js)
    context["script_files"] = kept


def setup(app) -> dict[str, Any]:
    app.connect("html-page-context", _one_of_each_script)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
