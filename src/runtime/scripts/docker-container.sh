#!/bin/sh
# docker runtime: PID 1 of the job's container (DockerRuntime::launch_command).
#   sh -c SCRIPT cosmos-job JOB_DIR ARGV...
# Runs the model's ARGV with its output appended to JOB_DIR/run.log, forwards SIGTERM from
# `docker stop` to its whole process group and records its exit status in JOB_DIR/exit_code.
dir=$1
shift
trap 'trap "" TERM INT; kill -TERM 0 2>/dev/null' TERM INT
"$@" </dev/null >>"$dir/run.log" 2>&1 &
child=$!
while :; do
  wait "$child"
  code=$?
  kill -0 "$child" 2>/dev/null || break
done
printf '%s\n' "$code" >"$dir/exit_code.tmp" && mv -f "$dir/exit_code.tmp" "$dir/exit_code"
exit "$code"
