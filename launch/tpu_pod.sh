#!/usr/bin/env bash
# Runs lightreasoner_jax on every worker of a Cloud TPU VM pod slice: creates the slice unless it
# exists, installs this package on all workers, runs the same main command on --worker=all and
# streams the logs. The workdir must be on GCS so that every host sees it and a rerun resumes.
#
#   TPU_NAME=lr-v5p-64 ZONE=us-east5-a ACCELERATOR=v5p-64 \
#   WORKDIR=gs://my-bucket/lr/qwen7b CONFIG=configs/qwen25_math_7b.py \
#   ARGS="--config.expert.path=/mnt/ckpt/Qwen2.5-Math-7B --config.amateur.path=/mnt/ckpt/Qwen2.5-0.5B" \
#   bash launch/tpu_pod.sh
#
# Variables (required unless a default is shown):
#   TPU_NAME       the slice's name
#   ZONE           its zone
#   ACCELERATOR    accelerator type, e.g. v5p-64, v4-32, v5litepod-16 (used only when creating)
#   RUNTIME        TPU software version (default: v2-alpha-tpuv5)
#   PROJECT        GCP project (default: gcloud's configured one)
#   WORKDIR        gs://... run directory (checkpoints, samples, evals, report)
#   CONFIG         config file, relative to the repository root (default: configs/default.py)
#   ARGS           extra flags for main, e.g. --config.train.optim.num_steps=500
#   REPO_URL       where workers clone the code from (default: this checkout's origin)
#   REF            commit or branch to run (default: this checkout's HEAD)
#   SPOT=1         create a spot (preemptible) slice
#   DRY_RUN=1      print the gcloud commands instead of running them
#
# Preemption: the train stage saves a checkpoint when the VM is told to stop (SIGTERM, Orbax's
# preemption signal); finished stages are skipped and sampling/eval skip answered questions, so
# rerunning this script with the same variables continues where the slice stopped.
set -euo pipefail

: "${TPU_NAME:?set TPU_NAME}" "${ZONE:?set ZONE}" "${WORKDIR:?set WORKDIR (gs://...)}"
ACCELERATOR="${ACCELERATOR:-}"
RUNTIME="${RUNTIME:-v2-alpha-tpuv5}"
CONFIG="${CONFIG:-configs/default.py}"
ARGS="${ARGS:-}"
REPO_URL="${REPO_URL:-$(git config --get remote.origin.url 2>/dev/null || true)}"
REF="${REF:-$(git rev-parse HEAD 2>/dev/null || echo main)}"
PROJECT_FLAG=()
if [[ -n "${PROJECT:-}" ]]; then PROJECT_FLAG=(--project="$PROJECT"); fi

case "$WORKDIR" in
  gs://*) ;;
  *) echo "tpu_pod.sh: WORKDIR must be a gs:// path every worker can reach, got '$WORKDIR'" >&2; exit 2 ;;
esac
if [[ -z "$REPO_URL" ]]; then
  echo "tpu_pod.sh: set REPO_URL (this checkout has no origin remote)" >&2; exit 2
fi

run() {
  if [[ "${DRY_RUN:-0}" == 1 ]]; then printf '%q ' "$@"; echo; else "$@"; fi
}

exists=0
if [[ "${DRY_RUN:-0}" != 1 ]] && gcloud compute tpus tpu-vm describe "$TPU_NAME" --zone="$ZONE" \
    "${PROJECT_FLAG[@]}" >/dev/null 2>&1; then
  exists=1
fi
if [[ "$exists" == 0 ]]; then
  : "${ACCELERATOR:?set ACCELERATOR to create the slice (e.g. v5p-64)}"
  spot=()
  if [[ "${SPOT:-0}" == 1 ]]; then spot=(--spot); fi
  run gcloud compute tpus tpu-vm create "$TPU_NAME" --zone="$ZONE" --accelerator-type="$ACCELERATOR" \
      --version="$RUNTIME" "${PROJECT_FLAG[@]}" "${spot[@]}"
fi

setup="set -e; if [ ! -d lightreasoner_jax ]; then git clone $REPO_URL lightreasoner_jax; fi; \
cd lightreasoner_jax && git fetch -q origin && git checkout -q $REF && \
python3 -m venv ~/.lr_venv && . ~/.lr_venv/bin/activate && pip install -q -U pip && \
pip install -q -e '.[gcs]' 'jax[tpu]'"
run gcloud compute tpus tpu-vm ssh "$TPU_NAME" --zone="$ZONE" "${PROJECT_FLAG[@]}" --worker=all --command="$setup"

# Same command on every host; jax.distributed finds the other workers from the TPU metadata.
main="cd lightreasoner_jax && . ~/.lr_venv/bin/activate && \
python -m lightreasoner_jax.main --config=$CONFIG --workdir=$WORKDIR $ARGS"
run gcloud compute tpus tpu-vm ssh "$TPU_NAME" --zone="$ZONE" "${PROJECT_FLAG[@]}" --worker=all --command="$main"
