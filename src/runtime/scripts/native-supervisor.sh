#!/bin/sh
# cosmos native job supervisor (constant text: every value arrives as an argument).
#   sh cosmos-job.sh launch    JOB_DIR CWD NENV [NAME VALUE]... ARGV...
#   sh cosmos-job.sh supervise JOB_DIR CWD NENV [NAME VALUE]... ARGV...
mode=$1
dir=$2
case $mode in
launch)
  pid=$(cat "$dir/pid" 2>/dev/null) || pid=
  case $pid in
  '' | *[!0-9]*) ;;
  *)
    if kill -0 "$pid" 2>/dev/null; then
      rm -f "$dir/secret.env"
      echo "cosmos: the job in $dir is already running (pid $pid): attach to it instead of launching it again" >&2
      exit 3
    fi
    ;;
  esac
  rm -f "$dir/pid" "$dir/pid.tmp" "$dir/exit_code" "$dir/exit_code.tmp"
  if ! : >>"$dir/run.log"; then
    rm -f "$dir/secret.env"
    exit 1
  fi
  shift
  if ! setsid -f sh "$0" supervise "$@" </dev/null >>"$dir/run.log" 2>&1; then
    rm -f "$dir/secret.env"
    echo "cosmos: cannot start the supervisor (setsid)" >&2
    exit 1
  fi
  i=0
  while [ ! -s "$dir/pid" ] && [ ! -f "$dir/exit_code" ]; do
    i=$((i + 1))
    if [ "$i" -gt 100 ]; then
      echo "cosmos: the job did not start within 10 s; see $dir/run.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  exit 0
  ;;
supervise)
  cwd=$3
  n=$4
  shift 4
  while [ "$n" -gt 0 ]; do
    export "$1=$2"
    shift 2
    n=$((n - 1))
  done
  if [ -f "$dir/secret.env" ]; then
    # shellcheck disable=SC1091 # the job's secret env file, written at launch
    . "$dir/secret.env"
    rm -f "$dir/secret.env"
  fi
  if cd "$cwd"; then
    # shellcheck disable=SC2016 # $$, $1 and $@ are the inner sh's, expanded there
    setsid sh -c 'printf "%s\n" "$$" >"$1.tmp" && mv -f "$1.tmp" "$1" && shift && exec "$@"' \
      cosmos-model "$dir/pid" "$@" &
    wait "$!"
    code=$?
  else
    code=127
  fi
  printf '%s\n' "$code" >"$dir/exit_code.tmp" && mv -f "$dir/exit_code.tmp" "$dir/exit_code"
  ;;
*)
  echo "cosmos-job.sh: unknown mode $mode" >&2
  exit 2
  ;;
esac
