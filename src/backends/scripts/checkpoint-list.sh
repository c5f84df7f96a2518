#!/bin/sh
# Checkpoint hashing: lists the regular files under DIR (following symlinks, as the model does)
# as NUL-terminated records "SIZE MTIME PATH".
#   sh -c SCRIPT sh DIR
cd -- "$1" || exit 3
exec find -L . -type f -printf '%s %T@ %P\0'
