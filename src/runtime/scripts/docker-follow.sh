#!/bin/sh
# docker runtime: prints a job's log as it grows (DockerRuntime::follow_log_command).
#   sh -c SCRIPT cosmos-follow JOB_DIR CONTAINER DOCKER-CLI...
# `docker wait` runs detached from this shell (so no zombie keeps tail's --pid alive) and ends
# when the container does.
dir=$1
name=$2
shift 2
w=$(sh -c '"$@" </dev/null >/dev/null 2>&1 & echo $!' cosmos-wait "$@" wait "$name")
exec tail -n +1 -F --pid="$w" "$dir/run.log" 2>/dev/null
