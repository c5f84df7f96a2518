#!/bin/sh
# hosts clean: "KIND BYTES MTIME-EPOCH PATH" for each file of CACHE_DIR no job dir links any more
# (KIND cache), and each array script of ARRAYS_DIR (KIND array).
#   sh -c SCRIPT cosmos-clean CACHE_DIR ARRAYS_DIR
if [ -d "$1" ]; then find "$1" -type f -links 1 -printf 'cache %s %T@ %p\n'; fi
if [ -d "$2" ]; then find "$2" -type f -printf 'array %s %T@ %p\n'; fi
exit 0
