#!/bin/bash
# Moves every setting of one experiment from regeneration/ into results/ at once, publishes its exact
# checks on Keras 2 beside them (when it has exact claims), rewrites its scope report and the ledger, and
# takes it off pairs.txt.
# Usage (in main, venv active): regeneration/integrate.sh NAME
set -eu
name=${1:?usage: regeneration/integrate.sh NAME}
cd "$(dirname "$0")/.."
python - "$name" <<'PY'
import sys
from pathlib import Path
from claimlab import registry
experiment = registry.load(sys.argv[1])
folders = [sys.argv[1] if setting == "default" else f"{sys.argv[1]}@{setting}" for setting in experiment.settings]
missing = [folder for folder in folders if not Path("regeneration", folder).is_dir()]
if missing:
    sys.exit(f"not every setting is staged yet: {', '.join(missing)}")
PY
for staged in regeneration/"$name" regeneration/"$name"@*; do
  folder=results/$(basename "$staged")
  [ -d "$folder" ] && git rm -rq --ignore-unmatch "$folder" && rm -rf "$folder"
  mv "$staged" "$folder"  # a setting staged this session may not be in git yet
done
if python -c "import sys; from claimlab import registry; sys.exit(0 if any(c.kind == 'exact' for c in registry.load('$name').claims) else 1)"; then
  python runner.py "$name" --keras 2 --publish
fi
python -c "from claimlab import report, registry; report.write_scope(registry.load('$name'), report.PUBLISHED_RESULTS); report.write_ledger(report.PUBLISHED_RESULTS)"
sed -i "/^$name /d" regeneration/pairs.txt  # nothing of it is left for the queue
git add -A results regeneration
