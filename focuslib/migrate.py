"""Re-key a results folder after a change of what a store key covers.

``python -m focuslib.migrate [RESULTS_DIR] [--dry-run]`` reads every run folder under the
results root (every profile, ``superseded/`` and ``replaying/`` included), makes its stored
configuration canonical with :func:`~focuslib.train.resolve` (today: a method's hyper-parameters
complete with their defaults), and where that changes the key it rewrites ``config.yaml``
(``key``, ``config`` and any ``continued_from`` that names a re-keyed run), the key inside a
resume checkpoint, and renames the folder to ``<label>-<new key>``. Metrics, final results and
weights are left as they are. Running it again changes nothing. A folder a live process is
training is refused: stop the job first (it resumes under the new key afterwards).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .config import RunConfig
from .resolve import resolve
from .store import CHECKPOINT, CONFIG, LOCK, ResultsStore, _holder_is_gone, _plain, atomic_write_text, default_root


@dataclass(frozen=True)
class Rekey:
    """One run folder whose key changes."""

    old_dir: Path
    new_dir: Path
    old_key: str
    new_key: str
    config: dict[str, Any]


def plan_rekeys(root: Path) -> list[Rekey]:
    """Every run folder under ``root`` whose canonical key differs from the one it is stored under."""

    out = []
    for path in sorted(root.rglob(CONFIG)):
        doc = ResultsStore.read_config(path.parent)
        if "config" not in doc or "key" not in doc:
            continue  # not a run folder (e.g. a profile's own files)
        try:
            cfg = resolve(RunConfig.from_dict(doc["config"]))
        except (ValueError, KeyError, TypeError) as err:
            raise SystemExit(f"cannot re-key {path.parent}: its config.yaml does not resolve ({err}); "
                             "move the folder away or fix the file, then run again") from None
        run_dir = path.parent
        suffix = run_dir.name.rsplit("-", 1)[-1]
        if cfg.key() != doc["key"] or suffix != cfg.key():
            out.append(Rekey(run_dir, run_dir.with_name(f"{cfg.label()}-{cfg.key()}"), doc["key"], cfg.key(),
                             _plain(cfg.to_dict())))
    return out


def _renamed(record: Any, keys: dict[str, str]) -> Any:
    """``record`` (a runtime record, or a list of them) with each ``continued_from`` re-keyed."""
    if isinstance(record, list):
        return [_renamed(r, keys) for r in record]
    if isinstance(record, dict) and record.get("continued_from") in keys:
        return {**record, "continued_from": keys[record["continued_from"]]}
    return record


def migrate(root: Path, dry_run: bool = False) -> list[Rekey]:
    """Re-key every run folder under ``root`` (see the module's docstring); returns what changed."""
    from .train import load_torch, save_torch  # noqa: PLC0415

    moves = plan_rekeys(root)
    for move in moves:
        lock = move.old_dir / LOCK
        if lock.exists() and not _holder_is_gone(lock.read_text().strip()):
            raise SystemExit(f"{move.old_dir} is being trained by a live process ({lock.read_text().strip()}); "
                             "stop that job, run the migration again, then restart the job")
        if move.new_dir.exists() and move.new_dir != move.old_dir:
            raise SystemExit(f"cannot rename {move.old_dir.name} to {move.new_dir.name}: that folder exists "
                             "(the same run stored twice); keep one of them and run again")
    if dry_run:
        return moves
    keys = {m.old_key: m.new_key for m in moves}
    for path in sorted(root.rglob(CONFIG)):  # continued_from may name a re-keyed run from any folder
        doc = ResultsStore.read_config(path.parent)
        if "config" not in doc:
            continue
        move = next((m for m in moves if m.old_dir == path.parent), None)
        new = {**doc, **({"key": move.new_key, "config": move.config} if move else {})}
        for field in ("runtime", "earlier"):
            if field in new:
                new[field] = _renamed(new[field], keys)
        if new != doc:
            atomic_write_text(path, yaml.safe_dump(new, sort_keys=False))
    for move in moves:
        checkpoint = move.old_dir / CHECKPOINT
        if checkpoint.exists():
            state = load_torch(checkpoint)
            state["key"] = move.new_key
            if state.get("continued_from") in keys:
                state["continued_from"] = keys[state["continued_from"]]
            save_torch(checkpoint, state)
        move.old_dir.rename(move.new_dir)
    return moves


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m focuslib.migrate", description=__doc__.split("\n\n")[0])
    p.add_argument("results_dir", nargs="?", default=None, help="the results root (default: the store's)")
    p.add_argument("--dry-run", action="store_true", help="only list the folders that would be re-keyed")
    a = p.parse_args(argv)
    root = Path(a.results_dir).expanduser() if a.results_dir else default_root()
    if not root.is_dir():
        p.error(f"no results folder at {root}")
    moves = migrate(root, dry_run=a.dry_run)
    for m in moves:
        print(f"{'would re-key' if a.dry_run else 're-keyed'} {m.old_dir.relative_to(root)} -> {m.new_dir.name}")
    print(f"{len(moves)} run folder(s) {'to re-key' if a.dry_run else 're-keyed'} under {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
