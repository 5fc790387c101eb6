"""Where the project's folders are. The bottom of the machinery: it imports nothing of claimlab's."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS_DIR = PROJECT_ROOT / "experiments"
SOURCES_DIR = PROJECT_ROOT / "sources"  # the Q&A documents every quote is checked against
PUBLISHED_RESULTS = PROJECT_ROOT / "results"  # the committed evidence: written only with --publish
README = PROJECT_ROOT / "README.md"
