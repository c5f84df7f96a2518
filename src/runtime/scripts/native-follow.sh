#!/bin/sh
# native runtime: prints a job's log as it grows (NativeRuntime::follow_log_command).
#   sh -c SCRIPT cosmos-follow JOB_DIR
# Waits up to 10 s for the pid file, then prints run.log from its first line and follows it
# until the model process ends (tail reads what is left before it exits).
dir=$1
i=0
while [ ! -s "$dir/pid" ] && [ ! -f "$dir/exit_code" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
pid=$(cat "$dir/pid" 2>/dev/null) || pid=
case $pid in
'' | *[!0-9]*)
  if [ -f "$dir/run.log" ]; then exec cat "$dir/run.log"; fi
  echo "cosmos: no job in $dir" >&2
  exit 1
  ;;
esac
exec tail -n +1 -F --pid="$pid" "$dir/run.log" 2>/dev/null
