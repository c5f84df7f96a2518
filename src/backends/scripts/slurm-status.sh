#!/bin/sh
# Slurm: the state of a job (SlurmRuntime::status_command, read by parse_status).
#   sh -c SCRIPT cosmos-status JOB_DIR
# `exited CODE` once the job script recorded one (followed, for a non-zero code, by what Slurm
# says: a time limit or a cancel ends the script with 143 too), `absent` before any submission,
# else "slurm ID" and what scontrol says about the job, and when the controller forgot it,
# "sacct" and sacct's record of it where accounting exists.
dir=$1
code=
if [ -f "$dir/exit_code" ]; then
  code=$(cat "$dir/exit_code")
  printf 'exited %s\n' "$code"
  [ "$code" = 0 ] && exit 0
fi
id=$(cat "$dir/slurm_job_id" 2>/dev/null) || id=
case $id in '' | *[!0-9_]*) [ -z "$code" ] && echo absent; exit 0 ;; esac
echo "slurm $id"
out=$(scontrol show job "$id" 2>&1)
printf '%s\n' "$out"
case $out in
*'Invalid job id'*)
  # forgotten by the controller: accounting, where it exists, still knows how the job ended
  if command -v sacct >/dev/null 2>&1 && acct=$(sacct -n -P -X -j "$id" -o JobID,State,ExitCode 2>/dev/null); then
    printf 'sacct\n%s\n' "$acct"
  fi
  ;;
esac
exit 0
