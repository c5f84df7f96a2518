#!/bin/sh
# native runtime: stops a job (NativeRuntime::kill_command).
#   sh -c SCRIPT cosmos-kill JOB_DIR
# TERM to the model's process group, KILL after 2.5 s, then waits (1.5 s at most) for the
# supervisor to record the exit code; records 137 itself if the supervisor is gone.
dir=$1
pid=$(cat "$dir/pid" 2>/dev/null) || pid=
case $pid in '' | *[!0-9]*) exit 0 ;; esac
kill -TERM "-$pid" 2>/dev/null || exit 0
i=0
while kill -0 "-$pid" 2>/dev/null && [ "$i" -lt 25 ]; do sleep 0.1; i=$((i + 1)); done
kill -KILL "-$pid" 2>/dev/null
i=0
while [ ! -f "$dir/exit_code" ] && [ "$i" -lt 15 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -f "$dir/exit_code" ]; then
  printf '137\n' >"$dir/exit_code.tmp" && mv -f "$dir/exit_code.tmp" "$dir/exit_code"
fi
exit 0
