#!/usr/bin/env bash
# A resumable background queue of runs, for one machine's cores over several sessions.
#
#   benchmarks/queue.sh [--results DIR] [--data DIR] QUEUE_FILE [QUEUE_FILE ...]
#
# Each QUEUE_FILE holds one `python -m focuslib.experiments` argument list per line ('#' starts a
# comment); the files are worked through in order, one thread per process, and after each line
# the dead units of every newly finished run are counted (diagnostics.json). Start it twice (a few
# seconds apart) to use two cores: a run the other worker holds is skipped (its store lock), so
# the two workers share one list. It repeats the list until a pass finds nothing left to do;
# after a stop, start it again: unfinished runs resume from their last epoch's checkpoint and
# finished ones are fetched from the store.
#
# Run it from a separate checkout (`git worktree add --detach ../wt HEAD`) so that editing this
# one does not change the code a long job imports; --results then points at this checkout's
# results/ so that the finished runs can be committed from here.
set -uo pipefail
results=results
data=../shared/data
while [ $# -gt 0 ]; do
  case $1 in
    --results) results=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: benchmarks/queue.sh [--results DIR] [--data DIR] QUEUE_FILE [QUEUE_FILE ...]" >&2; exit 2; }
said=$(mktemp)  # what the last line's run said (tee to /dev/stderr would truncate the log)
trap 'rm -f "$said"' EXIT
for pass in 1 2 3 4 5 6 7 8; do
  left=0
  while IFS= read -r line; do
    read -ra args <<<"${line%%#*}"  # words, never glob patterns (focusnet[d_attached])
    [ "${#args[@]}" = 0 ] && continue
    echo "== $(date -Is) pass $pass: ${args[*]}"
    python -m focuslib.experiments "${args[@]}" --threads 1 --results-dir "$results" --data-root "$data" 2>&1 | tee "$said"
    grep -q "left to the process training them" "$said" && left=1
    shopt -s nullglob
    finished=("$results"/paper/*/ "$results"/reduced/*/)
    shopt -u nullglob
    python -m focuslib.diagnostics "${finished[@]}" --missing --data-root "$data" >/dev/null 2>&1 || true
  done < <(cat "$@")
  [ "$left" = 0 ] && { echo "== $(date -Is) queue done"; exit 0; }
  sleep 60
done
