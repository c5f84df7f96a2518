#!/bin/sh
# Slurm: cancels a job (SlurmRuntime::kill_command).
#   sh -c SCRIPT cosmos-kill JOB_DIR
# scancel, then waits until squeue no longer lists the job (5 s at most) and records 143 as the
# exit code when the job script could not (it was killed).
dir=$1
id=$(cat "$dir/slurm_job_id" 2>/dev/null) || id=
case $id in '' | *[!0-9_]*) exit 0 ;; esac
scancel "$id" 2>/dev/null
i=0
while [ "$i" -lt 50 ]; do
  st=$(squeue -h -j "$id" -o %T 2>/dev/null) || break
  [ -z "$st" ] && break
  sleep 0.1
  i=$((i + 1))
done
if [ ! -f "$dir/exit_code" ]; then
  printf '143\n' >"$dir/exit_code.tmp" && mv -f "$dir/exit_code.tmp" "$dir/exit_code"
fi
exit 0
