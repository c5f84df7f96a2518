// The `native` runtime: the model runs in the host's own Python environment, started by a
// constant POSIX sh supervisor (cosmos-job.sh, written into the job dir) that outlives the SSH
// session: `launch` refuses a live job, then starts `supervise` with `setsid -f` (stdin
// /dev/null, output appended to run.log) and waits until the pid file exists; `supervise` exports
// the environment (pairs of positional arguments), sources and deletes the 0600 secret file,
// starts the model with setsid (so its pid is its process group and session: kill reaches
// torchrun and all its workers) and records its exit status in exit_code. The supervisor is in
// a session of its own, so killing the model's group never kills the process that records how
// it ended. docs/runtimes.md has the whole protocol.

#include "core/shell_quote.hpp"
#include "runtime/runtime_detail.hpp"

namespace cosmos::runtime {

namespace {

constexpr const char* k_supervisor = R"SH(#!/bin/sh
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
    . "$dir/secret.env"
    rm -f "$dir/secret.env"
  fi
  if cd "$cwd"; then
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
)SH";

// $1 = job dir. Prints running PID / exited CODE / vanished PID / absent.
constexpr const char* k_status = R"SH(dir=$1
if [ -f "$dir/exit_code" ]; then printf 'exited %s\n' "$(cat "$dir/exit_code")"; exit 0; fi
pid=$(cat "$dir/pid" 2>/dev/null) || pid=
case $pid in '' | *[!0-9]*) echo absent; exit 0 ;; esac
if kill -0 "$pid" 2>/dev/null; then echo "running $pid"; exit 0; fi
sleep 1
if [ -f "$dir/exit_code" ]; then printf 'exited %s\n' "$(cat "$dir/exit_code")"; exit 0; fi
echo "vanished $pid")SH";

// $1 = job dir. TERM to the model's process group, KILL after 2.5 s, then waits (1.5 s at most)
// for the supervisor to record the exit code; records 137 itself if the supervisor is gone.
constexpr const char* k_kill = R"SH(dir=$1
pid=$(cat "$dir/pid" 2>/dev/null) || pid=
case $pid in '' | *[!0-9]*) exit 0 ;; esac
kill -TERM "-$pid" 2>/dev/null || exit 0
i=0
while kill -0 "-$pid" 2>/dev/null && [ "$i" -lt 25 ]; do sleep 0.1; i=$((i + 1)); done
kill -KILL "-$pid" 2>/dev/null
i=0
while [ ! -f "$dir/exit_code" ] && [ "$i" -lt 15 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -f "$dir/exit_code" ]; then
  printf '137\n' >"$dir/exit_code.tmp" && mv -f "$dir/exit_code.tmp" "$dir/exit_code"
fi
exit 0)SH";

// $1 = job dir. Waits up to 10 s for the pid file, then prints run.log from its first line and
// follows it until the model process ends (tail reads what is left before it exits).
constexpr const char* k_follow = R"SH(dir=$1
i=0
while [ ! -s "$dir/pid" ] && [ ! -f "$dir/exit_code" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
pid=$(cat "$dir/pid" 2>/dev/null) || pid=
case $pid in
'' | *[!0-9]*)
  if [ -f "$dir/run.log" ]; then exec cat "$dir/run.log"; fi
  echo "cosmos: no job in $dir" >&2
  exit 1
  ;;
esac
exec tail -n +1 -F --pid="$pid" "$dir/run.log" 2>/dev/null)SH";

class NativeRuntime final : public Runtime {
public:
    explicit NativeRuntime(RuntimeOptions options) : m_options(std::move(options)) {}

    std::string name() const override {
        return m_options.kind == "apptainer" ? "apptainer" : "native";
    }

    std::vector<FileToWrite> launch_files(const LaunchRequest& r) const override {
        std::vector<FileToWrite> files{{supervisor_path(r), k_supervisor, 0700}};
        if (!r.secret_env.empty()) {
            std::string content;
            for (const auto& [k, v] : r.secret_env) {
                if (is_env_name(k)) {
                    content += "export " + k + "=" + core::shell_quote(v) + "\n";
                }
            }
            files.push_back({detail::secret_path(r), content, 0600});
        }
        return files;
    }

    std::vector<std::string> launch_command(const LaunchRequest& r) const override {
        // apptainer: the supervisor starts `apptainer exec ... IMAGE model-argv` from the host's
        // checkout; the model sees it at /workspace (the command is built for that path).
        bool contained = m_options.kind == "apptainer";
        std::string cwd =
            contained && !m_options.cosmos_dir.empty() ? m_options.cosmos_dir : r.command.cwd;
        std::vector<std::string> argv{"sh", supervisor_path(r), "launch", r.job_dir, cwd};
        std::vector<std::string> env;
        for (const auto& [k, v] : r.command.env) {
            if (is_env_name(k)) {
                env.push_back(k);
                env.push_back(v);
            }
        }
        argv.push_back(std::to_string(env.size() / 2));
        argv.insert(argv.end(), env.begin(), env.end());
        auto model =
            contained ? apptainer_argv(
                            m_options, r.command.cwd, {r.checkpoint_dir, r.job_dir}, r.command.argv)
                      : r.command.argv;
        argv.insert(argv.end(), model.begin(), model.end());
        return argv;
    }

    std::vector<std::string> status_command(const LaunchRequest& r) const override {
        return {"sh", "-c", k_status, "cosmos-status", r.job_dir};
    }

    core::Result<Observed> parse_status(int exit_code, const std::string& out) const override {
        return parse_state_line(exit_code, out);
    }

    std::vector<std::string> kill_command(const LaunchRequest& r) const override {
        return {"sh", "-c", k_kill, "cosmos-kill", r.job_dir};
    }

    std::vector<std::string> follow_log_command(const LaunchRequest& r) const override {
        return {"sh", "-c", k_follow, "cosmos-follow", r.job_dir};
    }

    std::string log_path(const LaunchRequest& r) const override { return detail::log_file(r); }

    std::vector<std::string> cleanup_command(const LaunchRequest& r) const override {
        return {"rm", "-f", "--", detail::secret_path(r)};
    }

    std::optional<std::vector<std::string>> image_info_command() const override {
        return std::nullopt;
    }

private:
    static std::string supervisor_path(const LaunchRequest& r) {
        return r.job_dir + "/cosmos-job.sh";
    }

    RuntimeOptions m_options;
};

}  // namespace

std::unique_ptr<Runtime> detail::make_native_runtime(const RuntimeOptions& options) {
    return std::make_unique<NativeRuntime>(options);
}

}  // namespace cosmos::runtime
