#!/bin/bash
# Runs the regeneration's (experiment, setting) pairs one after the other in this clone (see README.md).
# Usage: regeneration/queue.sh LOGS   (LOGS: a folder outside the clone for the logs and LOGS/done.txt)
set -u
logs=${1:?usage: regeneration/queue.sh LOGS}
cd "$(dirname "$0")/.." || exit 2
. .venv/bin/activate
mkdir -p "$logs"
while read -r name setting; do
  [ -z "$name" ] && continue
  folder=$name; [ "$setting" != default ] && folder=$name@$setting
  [ -d "regeneration/$folder" ] && continue                                  # staged by an earlier session
  grep -q "^$name@$setting rc=0 " "$logs/done.txt" 2>/dev/null && continue  # finished in this clone
  echo "start $name@$setting $(date -u +%FT%TZ)" >> "$logs/done.txt"
  # stdin from /dev/null: the runner must not read the rest of pairs.txt
  python runner.py "$name" --settings "$setting" --profile full --publish --resume --jobs 2 \
    < /dev/null >> "$logs/$name@$setting.log" 2>&1
  echo "$name@$setting rc=$? $(date -u +%FT%TZ)" >> "$logs/done.txt"
done < regeneration/pairs.txt
