"""Decode encoded images (JPEG bytes or files) once into a uint8 array and keep the result in
the cache folder, keyed by a fingerprint of the source, so later loads skip the decoding."""

from __future__ import annotations

import hashlib
import io
import os
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import PIL
from PIL import Image

from .errors import DatasetNotFoundError
from .roots import cache_dir

#: Bump when the layout of cached arrays changes; old cache files are then ignored.
CACHE_FORMAT = 1


def blob_slices(blob: np.ndarray, offsets: np.ndarray) -> list[bytes]:
    """Image ``i`` of a concatenated blob is ``blob[offsets[i]:offsets[i+1]]`` (shared-data npz)."""
    return [blob[a:b].tobytes() for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]


def _decode_chunk(chunk: Sequence[bytes | Path]) -> list[np.ndarray]:
    out = []
    for item in chunk:
        with Image.open(io.BytesIO(item) if isinstance(item, bytes) else item) as img:
            out.append(np.asarray(img.convert("RGB")))
    return out


def decode_images(items: Sequence[bytes | Path], chunk: int = 2048) -> np.ndarray:
    """Decode equally sized images to RGB uint8 (N, 3, H, W); Pillow releases the GIL while
    decoding, so chunks run on a thread pool."""
    chunks = [items[i : i + chunk] for i in range(0, len(items), chunk)]
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        arrays = [a for part in pool.map(_decode_chunk, chunks) for a in part]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"expected equally sized images, found shapes {sorted(shapes)[:5]}")
    return np.stack(arrays).transpose(0, 3, 1, 2).copy()


def fingerprint(*parts: object) -> str:
    """A short stable hash of ``parts`` plus the cache format and Pillow version (decoded JPEG
    pixels can differ by +-1 between libjpeg builds)."""
    text = "|".join(map(str, (CACHE_FORMAT, PIL.__version__, *parts)))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_stamp(path: Path) -> str:
    """Path, size and modification time of a file: changes whenever the file does."""
    st = path.stat()
    return f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"


def cached_arrays(label: str, key: str, build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """``build()``'s arrays, stored as ``<cache>/decoded/<label>-<key>.npz`` after the first call.

    An unwritable cache folder only costs the caching (a warning), never the data.
    """
    path = cache_dir() / "decoded" / f"{label}-{key}.npz"
    if path.exists():
        with np.load(path) as stored:
            return {k: stored[k] for k in stored.files}
    arrays = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except OSError as err:
        warnings.warn(f"could not cache decoded images at {path}: {err}", stacklevel=2)
    return arrays


@contextmanager
def shared_npz(name: str, path: Path, made_by: str = "the shared data") -> Iterator[np.lib.npyio.NpzFile]:
    """Open the ``.npz`` archive of data set ``name`` (as ``made_by`` wrote it): a file numpy cannot
    read as one (truncated, not an archive, pickled objects) or an array missing from it (a
    ``KeyError`` in the block) is a :class:`DatasetNotFoundError` naming the file, not numpy's message."""
    try:
        with np.load(path) as npz:
            yield npz
    except DatasetNotFoundError:
        raise
    except (KeyError, OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        problem = " ".join(str(err).split()) or type(err).__name__
        raise DatasetNotFoundError(name, path, f"the intact .npz archive of {made_by}; this one is damaged "
                                               f"({type(err).__name__}: {problem}): restore it") from None
