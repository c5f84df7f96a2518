#!/bin/sh
# docker runtime: the state of a job's container (DockerRuntime::status_command).
#   sh -c SCRIPT cosmos-status CONTAINER DOCKER-CLI...
# Prints `running`, `exited CODE` or `absent`; exits 2 with docker's error otherwise.
name=$1
shift
if out=$("$@" inspect --type container --format '{{.State.Status}} {{.State.ExitCode}}' "$name" 2>&1); then
  # shellcheck disable=SC2086 # split on purpose: STATUS and EXIT-CODE become $1 and $2
  set -- $out
  case $1 in
  exited | dead) echo "exited $2" ;;
  created) if [ "$2" = 0 ]; then echo running; else echo "exited $2"; fi ;;
  *) echo running ;;
  esac
  exit 0
fi
case $out in *"No such"* | *"no such"*) echo absent; exit 0 ;; esac
printf '%s\n' "$out" >&2
exit 2
