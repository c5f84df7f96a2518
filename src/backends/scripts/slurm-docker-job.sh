#!/bin/bash
# Slurm, docker runtime: JOB_DIR/cosmos-docker.sh, run by the batch script with bash (a file:
# the batch script's command line carries no multi-line text).
#   bash cosmos-docker.sh CONTAINER GPUS_FLAG N DOCKER-CLI(N words)... DOCKER-RUN-ARGS...
# GPUS_FLAG: the host's --gpus value (empty: the engine has no NVIDIA runtime); DOCKER-RUN-ARGS:
# the `docker run` options, image and command. The container is the docker daemon's child,
# outside the job's cgroup, so Slurm's SIGTERM (scancel, time limit) reaches only this script and
# the docker client: the trap stops the container (SIGKILL after 3 s, well inside KillWait) and
# --rm removes it. The GPUs are the ones Slurm allocated, as global indexes (SLURM_JOB_GPUS, else
# the IDX scontrol lists, else CUDA_VISIBLE_DEVICES), given to the container as --gpus
# '"device=I,J"' (the container sees them as 0..N-1), or as CUDA_VISIBLE_DEVICES without an
# NVIDIA runtime. A container of the same name left by an earlier attempt is removed; a running
# one is never started twice.
name=$1 gpus_flag=$2 n=$3
shift 3
docker=("${@:1:$n}")
shift "$n"
gpus=${SLURM_JOB_GPUS:-}
if [ -z "$gpus" ] && [ -n "${SLURM_JOB_ID:-}" ]; then
  idx=$(scontrol show job -d "$SLURM_JOB_ID" 2>/dev/null | sed -n 's/.*GRES=[^ ]*(IDX:\([0-9,-]*\)).*/\1/p' | head -n 1)
  for part in ${idx//,/ }; do
    if [[ $part == *-* ]]; then
      for ((i = ${part%-*}; i <= ${part#*-}; i++)); do gpus+=${gpus:+,}$i; done
    else
      gpus+=${gpus:+,}$part
    fi
  done
fi
[ -n "$gpus" ] || gpus=${CUDA_VISIBLE_DEVICES:-}
sel=()
if [ -n "$gpus_flag" ]; then
  if [ -n "$gpus" ]; then sel=(--gpus "\"device=$gpus\""); else sel=(--gpus "$gpus_flag"); fi
elif [ -n "$gpus" ]; then
  sel=(-e "CUDA_VISIBLE_DEVICES=$gpus")
fi
if running=$("${docker[@]}" inspect --type container --format '{{.State.Running}}' "$name" 2>/dev/null); then
  if [ "$running" = true ]; then
    echo "cosmos: container $name is already running on $(hostname); not starting the model twice" >&2
    exit 3
  fi
  "${docker[@]}" rm -f "$name" >/dev/null 2>&1
fi
# shellcheck disable=SC2317 # stop runs from the trap below
stop() {
  trap '' TERM INT
  echo "cosmos: Slurm is ending the job; stopping container $name" >&2
  "${docker[@]}" stop -t 3 "$name" >/dev/null 2>&1
}
trap stop TERM INT
"${docker[@]}" run --rm --name "$name" --sig-proxy=false "${sel[@]}" "$@" </dev/null &
child=$!
while :; do
  wait "$child"
  code=$?
  kill -0 "$child" 2>/dev/null || break
done
exit "$code"
