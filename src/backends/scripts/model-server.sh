#!/bin/sh
# A model server cosmos runs on this host, or as a Slurm job (docs/serving.md), kept in one state
# directory:
#   model-server.sh start DIR IDLE TOKEN -- CMD...  start the supervisor (detached) unless one runs
#   model-server.sh submit DIR TOKEN                 the same on Slurm: sbatch DIR/server.sbatch
#   model-server.sh status DIR                       "running" / "running pending" / "absent REASON"
#   model-server.sh begin DIR RUN_ID                 a request starts (the server is not idle)
#   model-server.sh end DIR RUN_ID                   a request ended
#   model-server.sh stop DIR                         stop the server now
#   model-server.sh supervise DIR IDLE -- CMD...     (internal, or a Slurm job's body) run CMD,
#                                                    stop it when idle
# DIR holds: pid (the supervisor), server.pid, server.log, key (0600, read into VLLM_API_KEY),
# env (0600: the host's [hosts.NAME.env], exported to the server), port,
# last_used (epoch seconds), inflight/RUN_ID (requests in flight), ended (why it last ended);
# on Slurm job (the job id) and node (where it runs; the job writes it) instead of pid.
# cosmos writes port, key, env (and server.sbatch) as NAME.TOKEN: the start that wins the lock
# moves its own into place, so a server and its port always come from one start.
set -u
op=$1
dir=$2
shift 2
now() { date +%s; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
# The Slurm job's state (squeue -t all: RUNNING, PENDING, COMPLETED...), empty when Slurm has
# forgotten it.
job_state() {
    squeue -h -t all -j "$1" -o %T 2>/dev/null | head -n 1
}
# running / running pending / absent REASON
state() {
    job=$(cat "$dir/job" 2>/dev/null)
    if [ -n "$job" ]; then
        st=$(job_state "$job")
        if [ ! -f "$dir/ended" ]; then
            case $st in
            RUNNING) echo running; return ;;
            PENDING | CONFIGURING | REQUEUED | RESIZING | SUSPENDED)
                echo "running pending"; return ;;
            esac
        fi
        echo "absent $(cat "$dir/ended" 2>/dev/null || echo "the Slurm job $job ended (${st:-gone})")"
        return
    fi
    # A live supervisor whose server is not started yet counts as running (it is starting).
    server=$(cat "$dir/server.pid" 2>/dev/null)
    if alive "$(cat "$dir/pid" 2>/dev/null)" && { [ -z "$server" ] || alive "$server"; }; then
        echo running
    else
        echo "absent $(cat "$dir/ended" 2>/dev/null || echo 'never started')"
    fi
}
# Takes the start lock, a mkdir (two starts at once start one server).
lock() {
    mkdir -p "$dir/inflight" || exit 1
    i=0
    until mkdir "$dir/start.lock" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            rm -rf "$dir/start.lock"  # left by a start that was killed
        fi
        sleep 0.1
    done
}
# Moves this start's files (NAME.TOKEN) into place, or drops them when a server runs.
take() {  # TOKEN KEEP
    for f in port key env server.sbatch; do
        if [ -f "$dir/$f.$1" ]; then
            if [ "$2" = yes ]; then mv -f "$dir/$f.$1" "$dir/$f"; else rm -f "$dir/$f.$1"; fi
        fi
    done
}
case $op in
start | submit)
    # port.TOKEN, key.TOKEN and env.TOKEN (written by cosmos) become the server's unless one runs.
    if [ "$op" = start ]; then idle=$1 token=$2; shift 3; else token=$1; fi
    lock
    if [ "$(state | cut -d' ' -f1)" = running ]; then
        take "$token" no
        rmdir "$dir/start.lock"
        echo running
        exit 0
    fi
    take "$token" yes
    rm -f "$dir/ended" "$dir/server.pid" "$dir/pid" "$dir/job" "$dir/node"
    now > "$dir/last_used"
    if [ "$op" = submit ]; then
        if ! out=$(sbatch --parsable "$dir/server.sbatch" 2>&1); then
            rmdir "$dir/start.lock"
            echo "sbatch refused the server job: $out" >&2
            exit 1
        fi
        echo "${out%%;*}" > "$dir/job"
    else
        setsid nohup sh "$0" supervise "$dir" "$idle" -- "$@" </dev/null >/dev/null 2>&1 &
        echo "$!" > "$dir/pid"
    fi
    rmdir "$dir/start.lock"
    echo started
    ;;
supervise)
    idle=$1
    shift 2
    cd "$dir" || exit 1
    if [ -n "${SLURM_JOB_ID:-}" ]; then
        # Where cosmos reaches the server (it asks Slurm for this node's address).
        printf '%s\n' "${SLURMD_NODENAME:-$(hostname)}" > node.tmp && mv -f node.tmp node
    fi
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
    # Says why the server ended, unless a newer start already took over the directory (a
    # server that died is started again at once, maybe before this supervisor noticed): its
    # pid, or on Slurm its job, is no longer this one's then.
    finish() {
        if [ -n "${SLURM_JOB_ID:-}" ]; then
            [ "$(cat job 2>/dev/null)" = "$SLURM_JOB_ID" ] || return 0
        else
            [ "$(cat pid 2>/dev/null)" = "$$" ] || return 0
        fi
        echo "$1" > ended
        rm -f pid server.pid
    }
    trap 'stop_child; finish "stopped by request"; exit 0' TERM INT
    while alive "$child"; do
        sleep 1
        find inflight -type f -mmin +1440 -exec rm -f {} + 2>/dev/null
        busy=$(find inflight -type f 2>/dev/null | head -n 1)
        last=$(cat last_used 2>/dev/null || now)
        if [ -z "$busy" ] && [ $(($(now) - last)) -ge "$idle" ]; then
            stop_child
            finish "stopped after ${idle} s without requests"
            exit 0
        fi
    done
    wait "$child"
    code=$?
    finish "the server exited with code $code"
    ;;
status)
    state
    ;;
begin)
    mkdir -p "$dir/inflight" && now > "$dir/inflight/$1" && now > "$dir/last_used"
    ;;
end)
    rm -f "$dir/inflight/$1"
    now > "$dir/last_used"
    ;;
stop)
    job=$(cat "$dir/job" 2>/dev/null)
    if [ -n "$job" ]; then
        # The job's supervisor writes why it ended when it gets SIGTERM; a pending job never
        # ran, so this says it first.
        [ -f "$dir/ended" ] || echo "stopped by request" > "$dir/ended"
        scancel "$job" 2>/dev/null
        echo stopped
        exit 0
    fi
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
