#!/bin/sh
# docker runtime: stops a job's container (DockerRuntime::kill_command).
#   sh -c SCRIPT cosmos-kill CONTAINER DOCKER-CLI...
# docker stop sends SIGTERM and SIGKILL after 3 s.
name=$1
shift
if out=$("$@" stop -t 3 "$name" 2>&1); then exit 0; fi
case $out in *"No such"* | *"no such"*) exit 0 ;; esac
"$@" kill "$name" >/dev/null 2>&1
if [ "$("$@" inspect --type container --format '{{.State.Running}}' "$name" 2>/dev/null)" = true ]; then
  printf '%s\n' "$out" >&2
  exit 1
fi
exit 0
