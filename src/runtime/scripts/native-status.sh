#!/bin/sh
# native runtime: the state of a job (NativeRuntime::status_command).
#   sh -c SCRIPT cosmos-status JOB_DIR
# Prints `running PID`, `exited CODE`, `vanished PID` or `absent`.
dir=$1
if [ -f "$dir/exit_code" ]; then printf 'exited %s\n' "$(cat "$dir/exit_code")"; exit 0; fi
pid=$(cat "$dir/pid" 2>/dev/null) || pid=
case $pid in '' | *[!0-9]*) echo absent; exit 0 ;; esac
if kill -0 "$pid" 2>/dev/null; then echo "running $pid"; exit 0; fi
sleep 1
if [ -f "$dir/exit_code" ]; then printf 'exited %s\n' "$(cat "$dir/exit_code")"; exit 0; fi
echo "vanished $pid"
