"""The errors a data set loader raises: what was looked for, where, and how to get it."""

from __future__ import annotations

from pathlib import Path


class DatasetNotFoundError(FileNotFoundError):
    """A data set folder is missing or malformed.

    The message names the data set, the path looked at, what was expected there and the spec's
    ``prepare`` text (how to obtain the data).
    """

    def __init__(self, name: str, path: Path | str, expected: str) -> None:
        from .catalog import get_spec  # local import: catalog imports this module

        self.name, self.path, self.expected = name, Path(path), expected
        super().__init__(
            f"data set {name!r}: nothing usable at {self.path}.\n"
            f"Expected: {expected}\n"
            f"How to get it: {get_spec(name).prepare}\n"
            "The data root is the `root` argument, else $FOCUSLIB_DATA, else "
            "~/.cache/focuslib/data ($FOCUSLIB_CACHE/data)."
        )

    def __str__(self) -> str:  # OSError would print its errno-style tuple otherwise
        return str(self.args[0])


class IncompleteDatasetError(DatasetNotFoundError):
    """The files are there but hold fewer/more images or classes than the paper's Table 1."""
