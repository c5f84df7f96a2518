#!/bin/sh
# hosts clean: "KB<TAB>LAST-CHANGE-EPOCH<TAB>NAME/" per job dir under JOBS_DIR (du --time: the
# newest modification anywhere inside it). Nothing when there is no jobs dir yet.
#   sh -c SCRIPT cosmos-clean JOBS_DIR
cd "$1" 2>/dev/null || exit 0
set -- */
[ -d "$1" ] || exit 0
exec du -sk --time --time-style=+%s -- "$@"
