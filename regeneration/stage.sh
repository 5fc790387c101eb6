#!/bin/bash
# Copies the settings the queue finished in a clone (LOGS/done.txt says rc=0), and still queued in pairs.txt,
# into regeneration/ as the runner wrote them; the scope files are left out, since they are rewritten when
# the experiment is whole.
# Usage (in main): regeneration/stage.sh CLONE LOGS
set -eu
clone=${1:?usage: regeneration/stage.sh CLONE LOGS}; logs=${2:?usage: regeneration/stage.sh CLONE LOGS}
cd "$(dirname "$0")"
grep " rc=0 " "$logs/done.txt" | while read -r pair _; do
  name=${pair%@*}; setting=${pair#*@}
  folder=$name; [ "$setting" != default ] && folder=$name@$setting
  [ -d "$folder" ] && continue
  grep -q "^$name $setting\$" pairs.txt || continue  # integrated already (integrate.sh takes it off the queue)
  mkdir "$folder"
  for file in "$clone/results/$folder"/*; do
    case $(basename "$file") in scope*|keras2.json) ;; *) cp "$file" "$folder/" ;; esac
  done
  PYTHONPATH=.. python3 -c "import sys; from pathlib import Path; from claimlab.schema import read_summary
s = read_summary(Path(sys.argv[1])); assert s.status == 'complete' and s.profile == 'full', sys.argv[1]
print(sys.argv[1], s.setting.name, 'wall', round(s.wall_seconds), 's, trials', round(s.trial_seconds), 's, commit', s.commit[:7], 'dirty' if s.dirty else 'clean')" "$folder"
done
