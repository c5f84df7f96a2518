#!/bin/sh
# Checkpoint hashing: hashes the NUL-separated paths (relative to DIR) read from stdin with JOBS
# parallel processes (sha256sum -z output).
#   sh -c SCRIPT sh DIR JOBS
cd -- "$1" || exit 3
exec xargs -0 -r -P "$2" -n 8 sha256sum -z --
