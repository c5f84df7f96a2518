#!/bin/sh
# setup: builds the image of the Cosmos checkout DIR with the container CLI and TAG (all
# arguments: nothing is pasted into the script).
#   sh -c SCRIPT sh DIR CLI TAG
cd -- "$1" || exit 3
exec "$2" build -f Dockerfile -t "$3" .
