#!/bin/sh
# setup: reads and deletes the secret env file SECRET_FILE, then runs the checkout's checkpoint
# download script in COSMOS_DIR for OUTPUT_DIR with the remaining arguments.
#   sh -c SCRIPT sh SECRET_FILE COSMOS_DIR OUTPUT_DIR [ARGS]...
# shellcheck disable=SC1090 # the secret env file is an argument
if [ -f "$1" ]; then set -a; . "$1"; set +a; rm -f "$1"; fi
cd -- "$2" || exit 3
out=$3; shift 3
exec python3 scripts/download_checkpoints.py --output_dir "$out" "$@"
