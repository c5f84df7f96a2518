#!/bin/sh
# The host side of the input cache (src/transport/staging.cpp, docs/ssh.md "The input cache").
# A cache file is used only once proven to hash to its name; the proof is kept as a stamp,
# CACHE_DIR.stamps/NAME, holding the file's "size mtime-seconds inode full-mtime" when it was
# proven. cosmos compares the first two over SFTP (no command); this script, when that fails,
# compares all four and otherwise runs sha256sum. cosmos commits a fresh upload over SFTP and
# writes only "size mtime-seconds" (SFTP has no inode or nanoseconds): such a stamp never equals
# this script's, so an entry it is asked about is hashed once and stamped fully.
#   sh -c SCRIPT cosmos-cache probe CACHE_DIR NAME SIZE PART
#     entry stamped | verified | missing | bad   (NAME given; bad: wrong size or content, removed)
#     entry same-size | none   (NAME empty: does any cached file have SIZE bytes?)
#     part none | part BYTES SHA256 | part BYTES long   (the .part an upload would resume)
#   sh -c SCRIPT cosmos-cache commit CACHE_DIR FROM NAME
#     renames FROM (written and hashed by this upload) to NAME, sets its mtime a second back and
#     stamps it: "committed" (also when a concurrent staging of the same file committed NAME
#     first and it proves to hash to its name)
set -u
stamp_of() { stat -c '%s %Y %i %y' -- "$1"; }
# write_stamp DIR NAME TEXT: atomically, so a reader sees a whole stamp or none.
write_stamp() {
    mkdir -p -- "$1" && printf '%s\n' "$3" >"$1/.$2.$$" && mv -f -- "$1/.$2.$$" "$1/$2"
}
hash_of() { sha256sum <"$1" | cut -c1-64; }

entry() {  # DIR NAME SIZE
    file=$1/$2
    if [ ! -f "$file" ]; then echo "entry missing"; return 1; fi
    now=$(stamp_of "$file") || exit 1
    if [ "${now%% *}" = "$3" ] && [ "$(cat -- "$1.stamps/$2" 2>/dev/null)" = "$now" ]; then
        echo "entry stamped"; return 0
    fi
    if [ "${now%% *}" = "$3" ] && [ "$(hash_of "$file")" = "${2%%.*}" ]; then
        write_stamp "$1.stamps" "$2" "$now" || exit 1
        echo "entry verified"; return 0
    fi
    rm -f -- "$file" "$1.stamps/$2" || exit 1
    echo "entry bad"; return 1
}

probe() {  # DIR NAME SIZE PART
    if [ -n "$2" ]; then
        entry "$1" "$2" "$3" && return 0
    elif [ -d "$1" ] && [ -n "$(find "$1" -maxdepth 1 -type f -size "$3c" ! -name '.*' \
            ! -name '*.part' -print -quit)" ]; then
        echo "entry same-size"; return 0
    else
        echo "entry none"
    fi
    # A concurrent staging of the same file (another cosmos process) may rename the .part to
    # its cache name at any moment: a .part gone between these steps is "none", never an error.
    have=$(stat -c %s -- "$4" 2>/dev/null) || { echo "part none"; return 0; }
    if [ "$have" -gt "$3" ]; then echo "part $have long"; return 0; fi
    sum=$(sha256sum <"$4" 2>/dev/null | cut -c1-64)
    if [ ${#sum} -ne 64 ]; then echo "part none"; return 0; fi
    echo "part $have $sum"
}

case ${1:-} in
probe) probe "$2" "$3" "$4" "$5" ;;
commit)
    if ! mv -f -- "$3" "$2/$4" 2>/dev/null; then
        # Another staging of the same file (a second worker thread) committed it first: it is
        # used once proven like any entry.
        if [ -e "$3" ] || [ ! -f "$2/$4" ]; then
            echo "cannot rename $3 to $2/$4" >&2
            exit 1
        fi
        size=$(stat -c %s -- "$2/$4") || exit 1
        entry "$2" "$4" "$size" >/dev/null || exit 1
        echo committed
        exit 0
    fi
    # Its mtime a second before the stamp's: any later write then shows a new mtime second,
    # which the quick check over SFTP (whole seconds only) can see.
    touch -m -d "@$(($(date +%s) - 1))" -- "$2/$4" || exit 1
    write_stamp "$2.stamps" "$4" "$(stamp_of "$2/$4")" || exit 1
    echo committed ;;
*) echo "usage: probe|commit ..." >&2; exit 2 ;;
esac
