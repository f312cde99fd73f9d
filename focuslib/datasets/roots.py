"""Where data lives: the data root (argument > $FOCUSLIB_DATA > cache folder), the cache folder
($FOCUSLIB_CACHE or ~/.cache/focuslib) and the search for a known folder layout under a root."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def cache_dir() -> Path:
    """``$FOCUSLIB_CACHE`` if set, else ``~/.cache/focuslib``."""
    return Path(os.environ.get("FOCUSLIB_CACHE") or Path.home() / ".cache" / "focuslib").expanduser()


def resolve_root(root: str | os.PathLike | None) -> Path:
    """The data root: ``root`` if given, else ``$FOCUSLIB_DATA``, else ``cache_dir()/data``."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("FOCUSLIB_DATA")
    return Path(env).expanduser() if env else cache_dir() / "data"


@dataclass(frozen=True)
class Layout:
    """A folder layout: it is found at ``root/<sub>`` for the first ``sub`` in ``subdirs``
    (``""`` = the root itself) that holds every entry of ``required``."""

    subdirs: tuple[str, ...]
    required: tuple[str, ...]

    def find(self, root: Path) -> Path | None:
        for sub in self.subdirs:
            where = root / sub if sub else root
            if all((where / entry).exists() for entry in self.required):
                return where
        return None

    def describe(self, root: Path) -> str:
        """What was expected and, per place looked at, what was missing there."""
        lines = []
        for sub in self.subdirs:
            where = root / sub if sub else root
            missing = [e for e in self.required if not (where / e).exists()]
            state = "missing" if not where.is_dir() else f"lacks {', '.join(missing)}"
            lines.append(f"  {where}/{{{', '.join(self.required)}}} ({state})")
        return "\n".join(lines)


def describe_layouts(root: Path, *layouts: Layout) -> str:
    """The ``expected`` text of a not-found error listing each layout that was tried."""
    return "one of these layouts (tried in order):\n" + "\n".join(layout.describe(root) for layout in layouts)
