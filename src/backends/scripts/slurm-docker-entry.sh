trap 'trap "" TERM INT; kill -TERM 0 2>/dev/null' TERM INT; "$@" </dev/null & child=$!; while :; do wait "$child"; code=$?; kill -0 "$child" 2>/dev/null || break; done; exit "$code"
