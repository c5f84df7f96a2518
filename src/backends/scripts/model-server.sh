#!/bin/sh
# A model server cosmos runs on this host (docs/serving.md), kept in one state directory:
#   model-server.sh start DIR IDLE_S -- CMD...   start the supervisor (detached) unless one runs
#   model-server.sh status DIR                    "running" / "absent REASON"
#   model-server.sh begin DIR RUN_ID              a request starts (the server is not idle)
#   model-server.sh end DIR RUN_ID                a request ended
#   model-server.sh stop DIR                      stop the server now
#   model-server.sh supervise DIR IDLE_S -- CMD.. (internal) run CMD, stop it when idle
# DIR holds: pid (the supervisor), server.pid, server.log, key (0600, read into VLLM_API_KEY),
# env (0600: the host's [hosts.NAME.env], exported to the server),
# last_used (epoch seconds), inflight/RUN_ID (requests in flight), ended (why it last ended).
set -u
op=$1
dir=$2
shift 2
now() { date +%s; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
case $op in
start)
    # port.new, key.new and env.new (written by cosmos) become the server's unless one runs;
    # a lock makes two starts at once start one server.
    idle=$1
    shift 2
    mkdir -p "$dir/inflight" || exit 1
    i=0
    until mkdir "$dir/start.lock" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            rm -rf "$dir/start.lock"  # left by a start that was killed
        fi
        sleep 0.1
    done
    if alive "$(cat "$dir/pid" 2>/dev/null)"; then
        rm -f "$dir/port.new" "$dir/key.new" "$dir/env.new"
        rmdir "$dir/start.lock"
        echo running
        exit 0
    fi
    for f in port key env; do
        if [ -f "$dir/$f.new" ]; then
            mv -f "$dir/$f.new" "$dir/$f"
        fi
    done
    rm -f "$dir/ended" "$dir/server.pid"
    now > "$dir/last_used"
    setsid nohup sh "$0" supervise "$dir" "$idle" -- "$@" </dev/null >/dev/null 2>&1 &
    echo "$!" > "$dir/pid"
    rmdir "$dir/start.lock"
    echo started
    ;;
supervise)
    idle=$1
    shift 2
    cd "$dir" || exit 1
    if [ -f env ]; then
        # shellcheck disable=SC1091
        . ./env
    fi
    if [ -s key ]; then
        VLLM_API_KEY=$(cat key)
        export VLLM_API_KEY
    fi
    "$@" > server.log 2>&1 </dev/null &
    child=$!
    echo "$child" > server.pid
    stop_child() {
        kill -TERM "$child" 2>/dev/null
        i=0
        while alive "$child" && [ $i -lt 30 ]; do
            sleep 1
            i=$((i + 1))
        done
        kill -KILL "$child" 2>/dev/null
        wait "$child" 2>/dev/null
    }
    trap 'stop_child; echo "stopped by request" > ended; rm -f pid server.pid; exit 0' TERM INT
    while alive "$child"; do
        sleep 1
        find inflight -type f -mmin +1440 -exec rm -f {} + 2>/dev/null
        busy=$(find inflight -type f 2>/dev/null | head -n 1)
        last=$(cat last_used 2>/dev/null || now)
        if [ -z "$busy" ] && [ $(($(now) - last)) -ge "$idle" ]; then
            stop_child
            echo "stopped after ${idle} s without requests" > ended
            rm -f pid server.pid
            exit 0
        fi
    done
    wait "$child"
    code=$?
    echo "the server exited with code $code" > ended
    rm -f pid server.pid
    ;;
status)
    # A live supervisor whose server is not started yet counts as running (it is starting).
    server=$(cat "$dir/server.pid" 2>/dev/null)
    if alive "$(cat "$dir/pid" 2>/dev/null)" && { [ -z "$server" ] || alive "$server"; }; then
        echo running
    else
        echo "absent $(cat "$dir/ended" 2>/dev/null || echo 'never started')"
    fi
    ;;
begin)
    mkdir -p "$dir/inflight" && now > "$dir/inflight/$1" && now > "$dir/last_used"
    ;;
end)
    rm -f "$dir/inflight/$1"
    now > "$dir/last_used"
    ;;
stop)
    pid=$(cat "$dir/pid" 2>/dev/null)
    if alive "$pid"; then
        kill -TERM "$pid"
        i=0
        while alive "$pid" && [ $i -lt 40 ]; do
            sleep 1
            i=$((i + 1))
        done
    fi
    echo stopped
    ;;
*)
    echo "model-server.sh: unknown operation $op" >&2
    exit 2
    ;;
esac
