#!/bin/sh
# Slurm: prints a job's log as it grows (SlurmRuntime::follow_log_command).
#   sh -c SCRIPT cosmos-follow JOB_DIR
# Prints run.log from its first byte as it grows until the job ended: squeue no longer lists it
# (asked every 5 s, and at every look once the exit code is recorded: hundreds of jobs in flight
# must not flood the controller; one that does not answer is asked again, never taken for an
# ended job), or its exit code was recorded 10 s ago. Waiting for Slurm to let go of the job lets
# status read its final state (TIMEOUT...). The end is seen before the last read, so nothing the
# job wrote is left out. It looks every 0.25 s while the log grows and backs off to every 2 s
# while it does not (a job waiting in the queue): hundreds of followers on a login node must not
# each start eight processes a second.
dir=$1
cd "$dir" 2>/dev/null || { echo "cosmos: no job in $dir" >&2; exit 1; }
id=$(cat slurm_job_id 2>/dev/null) || id=
case $id in
'' | *[!0-9_]*)
  if [ -f run.log ]; then exec cat run.log; fi
  echo "cosmos: no Slurm job in $dir" >&2
  exit 1
  ;;
esac
off=0
delay=25   # centiseconds to the next look
since=0    # centiseconds since squeue was last asked (first asked after 5 s)
while :; do
  end=0
  if [ -f exit_code ]; then
    recorded=$((${recorded:-0} + 1))
    [ "$recorded" -gt 40 ] && end=1
    delay=25
  fi
  if [ "$end" = 0 ] && { [ "$since" -ge 500 ] || [ -f exit_code ]; }; then
    since=0
    if st=$(squeue -h -j "$id" -o %T 2>&1); then
      [ -z "$st" ] && end=1
    else
      case $st in *'Invalid job id'*) end=1 ;; esac
    fi
  fi
  size=$(stat -c %s run.log 2>/dev/null) || size=0
  if [ "$size" -gt "$off" ]; then
    tail -c +"$((off + 1))" run.log | head -c "$((size - off))"
    off=$size
    delay=25
  elif [ "$delay" -lt 200 ] && [ ! -f exit_code ]; then
    delay=$((delay * 2))
  fi
  [ "$end" = 1 ] && break
  sleep "$((delay / 100)).$((delay % 100 / 10))$((delay % 10))"
  since=$((since + delay))
done
exit 0
