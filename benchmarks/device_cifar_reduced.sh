#!/usr/bin/env bash
# Issue 23's CIFAR-10 reduced-protocol FocusNet runs on one GPU, the seeds side by side.
#
#   benchmarks/device_cifar_reduced.sh DATA_ROOT OUT_DIR [SEED ...]      (default seeds: 2 3 4)
#
# Why a GPU: a committed baseline carries no weights, so each FocusNet run first trains its `ce`
# baseline again (about 1.9 h on one CPU thread) and then itself (about 2.3 h): more than a 3-hour
# session on the CPU, and nothing ignored by git outlasts it. On a GPU both fit in minutes.
#
# Per seed, one process (python -m focuslib.experiments, the reduced profile: fp32 on any device,
# `amp: false`): the `ce` run of that seed is fetched from the store; its weights are trained
# again (recorded in the FocusNet run as `teacher_retrained`, with the record's and the retrain's
# final top-1: on a GPU they differ from the fp32 CPU record, and the pages say so beside the
# pair); then `focusnet` trains against them. Run it again on the same machine (or with the same
# results folder) after a time-out: every run resumes from its last epoch's checkpoint.
#
# It packs the small files of every finished FocusNet run of the reduced profile (config.yaml,
# metrics.jsonl, final.json) into OUT_DIR/runs.tgz, and each seed's log into OUT_DIR; unpack the
# archive in the checkout (`tar xzf runs.tgz`) and commit the new run folders. With the device
# tool of this workplace: copy ../shared/data/cifar10/cifar10_jpeg_full.npz to data/cifar10/
# (git-ignored), carry `data`, and run
#   timeout 560 bash benchmarks/device_cifar_reduced.sh data "$OUT" 2 3 4
set -uo pipefail
[ $# -ge 2 ] || { echo "usage: benchmarks/device_cifar_reduced.sh DATA_ROOT OUT_DIR [SEED ...]" >&2; exit 2; }
data=$1
out=$2
shift 2
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(2 3 4)
mkdir -p "$out"
export PYTHONUNBUFFERED=1
pack() {
  shopt -s nullglob
  local done=()
  for final in results/reduced/*-focusnet-s*/final.json; do
    local d=${final%/final.json}
    done+=("$d/config.yaml" "$d/metrics.jsonl" "$d/final.json")
  done
  [ ${#done[@]} -gt 0 ] && tar czf "$out/runs.tgz" "${done[@]}" && echo "packed $(( ${#done[@]} / 3 )) finished FocusNet run(s) into $out/runs.tgz"
}
trap pack EXIT  # also when a time-out ends the script: what finished comes back
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi: is this a GPU machine?"
pids=()
for s in "${seeds[@]}"; do
  python -m focuslib.experiments table2 --profile reduced --dataset cifar10 --rows ce focusnet --seeds "$s" \
    --device cuda --data-root "$data" > "$out/seed$s.log" 2>&1 &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
for s in "${seeds[@]}"; do echo "== seed $s"; tail -n 3 "$out/seed$s.log"; done
exit $status
