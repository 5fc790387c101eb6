"""Where a run's numbers came from: the commit, whether the code that makes results was edited since,
the package versions and the config. Written into summary.json, summary.md and the parent run's tags,
so a cited number can be traced back to the code and the versions that produced it.
"""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
from dataclasses import dataclass

from claimlab.paths import PROJECT_ROOT

# Only edits to these make a commit "dirty": tests, docs and results/ do not change a number.
RESULT_MAKING_CODE = ("claimlab", "experiments", "runner.py", "pyproject.toml")


@dataclass
class Provenance:
    """Where a run's numbers came from, for summary.json and the parent run's tags."""

    commit: str
    dirty: bool
    versions: dict
    config_hash: str
    started: float  # time.perf_counter() at the start, for the wall time

    @classmethod
    def capture(cls, config_hash: str, started: float) -> Provenance:
        """The commit and versions of this process, for a run of the config with this hash."""
        commit, dirty = git_commit()
        return cls(commit, dirty, package_versions(), config_hash, started)

    def tags(self) -> dict[str, str]:
        """The commit and versions as MLflow run tags (MLflow shows mlflow.source.git.commit itself)."""
        return {"mlflow.source.git.commit": self.commit, "claimlab.git_dirty": str(self.dirty),
                **{f"version.{name}": version for name, version in self.versions.items()}}


def package_versions() -> dict[str, str]:
    """Versions without importing the packages (importlib.metadata reads the installed metadata)."""
    versions = {"python": platform.python_version()}
    for label, candidates in {
        "tensorflow": ("tensorflow", "tensorflow-cpu"), "jax": ("jax",), "jaxlib": ("jaxlib",), "keras": ("keras",),
        "mlflow": ("mlflow", "mlflow-skinny"),
        "numpy": ("numpy",), "scipy": ("scipy",), "pandas": ("pandas",), "scikit-learn": ("scikit-learn",),
        "mnist1d": ("mnist1d",),
    }.items():
        for name in candidates:
            try:
                versions[label] = importlib.metadata.version(name)
                break
            except importlib.metadata.PackageNotFoundError:
                continue
    return versions


def git_commit() -> tuple[str, bool]:
    """The commit the code came from, and whether the code that makes results (claimlab/, experiments/,
    runner.py, pyproject.toml) differs from it. Edits to tests, docs or results/ do not count."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                                check=True, timeout=10).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", *RESULT_MAKING_CODE],
                                cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        return commit, bool(status)
    except (OSError, subprocess.SubprocessError):
        return "unknown", False
