"""Writing a results folder safely: atomic writes, the results lock, JSON without NaN, trials.csv and
figures. Below every module that writes results, so each writes the same way."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

from claimlab.errors import UsageError
from claimlab import schema
from claimlab.schema import Keras2Record

# NaN as null, dataclasses as objects: every file the lab writes goes through the one converter
json_safe = schema.json_safe

KERAS2_FILE = "keras2.json"  # beside summary.json: the exact claims' verdicts on Keras 2 (`--keras 2`)


# Every results file is written to a temporary name beside it and renamed into place: a run killed, or a
# disk that fills, mid-write leaves the previous file whole, never half a summary.json or half a ledger.
def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """`write(temporary_path)`, then rename over `path` (atomic on one filesystem); the temporary file is
    removed if writing fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def results_lock(results_root: Path):
    """Held while a runner writes results/<name>/ or the ledger: two runners finishing at once write one
    after the other (the second waits; writing takes seconds), never interleaved. Waiting rather than
    refusing, because runs of different experiments share the ledger and should all succeed."""
    from filelock import FileLock

    results_root.mkdir(parents=True, exist_ok=True)
    return FileLock(str(results_root / ".claimlab-write.lock"), timeout=600)


def check_writable(results_root: Path) -> None:
    """Before any training: results/ must be a folder this process can create files in."""
    try:
        results_root.mkdir(parents=True, exist_ok=True)
        probe = results_root / f".claimlab-probe.{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise UsageError(f"--results-dir {results_root}: cannot write there ({error.strerror or error}); "
                         "pass a folder you can write to") from None


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda temporary: temporary.write_text(text))


def write_trials_csv(results_dir: Path, trials) -> None:
    # full precision: the verdicts recompute exactly from it
    atomic_write(results_dir / "trials.csv", lambda temporary: trials.to_csv(temporary, index=False))


def write_figures(results_dir: Path, figures: dict) -> list[str]:
    names = []
    for name, figure in figures.items():
        atomic_write(results_dir / f"{name}.png",
                     lambda temporary: figure.savefig(temporary, format="png", dpi=110, bbox_inches="tight"))
        names.append(f"{name}.png")
    for stale in set(p.name for p in results_dir.glob("*.png")) - set(names):  # only once the new ones are in
        (results_dir / stale).unlink()
    return names


def read_keras2(results_dir: Path) -> Keras2Record | None:
    """keras2.json, or None where `--keras 2` has not run for this results folder."""
    path = results_dir / KERAS2_FILE
    return Keras2Record.from_json(json.loads(path.read_text())) if path.exists() else None
