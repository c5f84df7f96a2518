#!/bin/sh
# Slurm: submits one job or one array (SlurmRuntime::launch_command, run_submit).
#   sh -c SCRIPT cosmos-submit BATCH_SCRIPT JOB_DIR...
# JOB_DIR...: the job dirs it runs (one; or one per array task, in task order). Refuses (exit 3)
# while Slurm still holds the job of any of those dirs; keeps the files of an earlier attempt
# under its id; records each dir's id (N, or N_TASK for an array) atomically. sbatch's own errors
# reach stderr.
script=$1
shift
for dir in "$@"; do
  old=$(cat "$dir/slurm_job_id" 2>/dev/null) || old=
  [ -n "$old" ] || continue
  if st=$(squeue -h -j "$old" -o %T 2>/dev/null) && [ -n "$st" ]; then
    for d in "$@"; do rm -f "$d/secret.env"; done
    echo "cosmos: the job in $dir is already Slurm job $old ($st): attach to it instead of submitting it again" >&2
    exit 3
  fi
  for f in run.log exit_code slurm_job_id; do
    if [ -f "$dir/$f" ]; then mv -f "$dir/$f" "$dir/$f.$old"; fi
  done
done
out=$(sbatch --parsable "$script") || { for d in "$@"; do rm -f "$d/secret.env"; done; exit 1; }
id=${out##*
}
id=${id%%;*}
case $id in
'' | *[!0-9]*) for d in "$@"; do rm -f "$d/secret.env"; done; echo "cosmos: sbatch printed no job id: $out" >&2; exit 1 ;;
esac
if [ "$#" -eq 1 ]; then
  printf '%s\n' "$id" >"$1/slurm_job_id.tmp" && mv -f "$1/slurm_job_id.tmp" "$1/slurm_job_id"
else
  i=0
  for dir in "$@"; do
    printf '%s\n' "${id}_$i" >"$dir/slurm_job_id.tmp" && mv -f "$dir/slurm_job_id.tmp" "$dir/slurm_job_id"
    i=$((i + 1))
  done
fi
echo "submitted Slurm job $id"
