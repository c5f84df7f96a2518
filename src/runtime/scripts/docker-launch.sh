#!/bin/sh
# docker runtime: starts a job's container on the host (DockerRuntime::launch_command).
#   sh -c SCRIPT cosmos-launch JOB_DIR DOCKER-RUN-ARGV...
# The secret env file is removed as soon as docker run returns, whatever it returned.
dir=$1
shift
if ! : >>"$dir/run.log"; then rm -f "$dir/secret.env"; exit 1; fi
"$@"
code=$?
rm -f "$dir/secret.env"
exit "$code"
