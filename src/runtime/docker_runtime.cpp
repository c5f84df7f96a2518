// The `docker` runtime: the model runs in a detached container named cosmos-<job id>, with the
// Cosmos checkout at /workspace and the checkpoint and job dirs mounted at their host paths.
// The container's command is a constant sh wrapper that appends the model's output to
// JOB_DIR/run.log and records its exit status in JOB_DIR/exit_code, exactly like the native
// supervisor, so that following and collecting the log are the same for both runtimes (and the
// log survives `docker rm`). As PID 1 it forwards SIGTERM from `docker stop` to its whole process
// group (torchrun and its workers). State comes from `docker inspect`.

#include "runtime/runtime_detail.hpp"

namespace cosmos::runtime {

namespace {

// Runs inside the container: $1 = job dir, then the model's argv.
constexpr const char* k_container = R"SH(dir=$1
shift
trap 'trap "" TERM INT; kill -TERM 0 2>/dev/null' TERM INT
"$@" </dev/null >>"$dir/run.log" 2>&1 &
child=$!
while :; do
  wait "$child"
  code=$?
  kill -0 "$child" 2>/dev/null || break
done
printf '%s\n' "$code" >"$dir/exit_code.tmp" && mv -f "$dir/exit_code.tmp" "$dir/exit_code"
exit "$code")SH";

// On the host: $1 = job dir, then the `docker run` argv. The secret env file is removed as soon
// as docker run returns, whatever it returned.
constexpr const char* k_launch = R"SH(dir=$1
shift
if ! : >>"$dir/run.log"; then rm -f "$dir/secret.env"; exit 1; fi
"$@"
code=$?
rm -f "$dir/secret.env"
exit "$code")SH";

// $1 = container name, then the docker CLI argv.
constexpr const char* k_status = R"SH(name=$1
shift
if out=$("$@" inspect --type container --format '{{.State.Status}} {{.State.ExitCode}}' "$name" 2>&1); then
  set -- $out
  case $1 in
  exited | dead) echo "exited $2" ;;
  created) if [ "$2" = 0 ]; then echo running; else echo "exited $2"; fi ;;
  *) echo running ;;
  esac
  exit 0
fi
case $out in *"No such"* | *"no such"*) echo absent; exit 0 ;; esac
printf '%s\n' "$out" >&2
exit 2)SH";

// $1 = container name, then the docker CLI argv. docker stop sends SIGTERM and SIGKILL after 3 s.
constexpr const char* k_kill = R"SH(name=$1
shift
if out=$("$@" stop -t 3 "$name" 2>&1); then exit 0; fi
case $out in *"No such"* | *"no such"*) exit 0 ;; esac
"$@" kill "$name" >/dev/null 2>&1
if [ "$("$@" inspect --type container --format '{{.State.Running}}' "$name" 2>/dev/null)" = true ]; then
  printf '%s\n' "$out" >&2
  exit 1
fi
exit 0)SH";

// $1 = job dir, $2 = container name, then the docker CLI argv. `docker wait` runs detached from
// this shell (so no zombie keeps tail's --pid alive) and ends when the container does.
constexpr const char* k_follow = R"SH(dir=$1
name=$2
shift 2
w=$(sh -c '"$@" </dev/null >/dev/null 2>&1 & echo $!' cosmos-wait "$@" wait "$name")
exec tail -n +1 -F --pid="$w" "$dir/run.log" 2>/dev/null)SH";

// $1 = job dir, $2 = container name, then the docker CLI argv.
constexpr const char* k_cleanup = R"SH(dir=$1
name=$2
shift 2
rm -f "$dir/secret.env"
out=$("$@" rm -f "$name" 2>&1) && exit 0
case $out in *"No such"* | *"no such"*) exit 0 ;; esac
printf '%s\n' "$out" >&2
exit 1)SH";

class DockerRuntime final : public Runtime {
public:
    explicit DockerRuntime(RuntimeOptions options) : m_options(std::move(options)) {}

    std::string name() const override { return "docker"; }

    std::vector<FileToWrite> launch_files(const LaunchRequest& r) const override {
        if (r.secret_env.empty()) {
            return {};
        }
        std::string content;  // docker --env-file: NAME=VALUE per line, taken literally
        for (const auto& [k, v] : r.secret_env) {
            if (is_env_name(k)) {
                content += k + "=" + v + "\n";
            }
        }
        return {{detail::secret_path(r), content, 0600}};
    }

    std::vector<std::string> launch_command(const LaunchRequest& r) const override {
        std::vector<std::string> argv{"sh", "-c", k_launch, "cosmos-launch", r.job_dir};
        append_docker(argv);
        argv.insert(argv.end(), {"run", "-d", "--name", container_name(r.job_id)});
        if (!m_options.gpus_flag.empty()) {
            argv.insert(argv.end(), {"--gpus", m_options.gpus_flag});
        }
        auto common = docker_run_options(m_options, r.command.cwd, {r.checkpoint_dir, r.job_dir});
        argv.insert(argv.end(), common.begin(), common.end());
        for (const auto& [k, v] : r.command.env) {
            if (k != "PYTHONPATH" && is_env_name(k)) {
                argv.insert(argv.end(), {"-e", k + "=" + v});
            }
        }
        if (!r.secret_env.empty()) {
            argv.insert(argv.end(), {"--env-file", detail::secret_path(r)});
        }
        argv.insert(
            argv.end(), m_options.extra_docker_args.begin(), m_options.extra_docker_args.end());
        argv.insert(argv.end(),
                    {m_options.image, "sh", "-c", k_container, "cosmos-job", r.job_dir});
        argv.insert(argv.end(), r.command.argv.begin(), r.command.argv.end());
        return argv;
    }

    std::vector<std::string> status_command(const LaunchRequest& r) const override {
        return with_docker({"sh", "-c", k_status, "cosmos-status", container_name(r.job_id)});
    }

    core::Result<Observed> parse_status(int exit_code, const std::string& out) const override {
        return parse_state_line(exit_code, out);
    }

    std::vector<std::string> kill_command(const LaunchRequest& r) const override {
        return with_docker({"sh", "-c", k_kill, "cosmos-kill", container_name(r.job_id)});
    }

    std::vector<std::string> follow_log_command(const LaunchRequest& r) const override {
        return with_docker(
            {"sh", "-c", k_follow, "cosmos-follow", r.job_dir, container_name(r.job_id)});
    }

    std::string log_path(const LaunchRequest& r) const override { return detail::log_file(r); }

    std::vector<std::string> cleanup_command(const LaunchRequest& r) const override {
        return with_docker(
            {"sh", "-c", k_cleanup, "cosmos-cleanup", r.job_dir, container_name(r.job_id)});
    }

    std::optional<std::vector<std::string>> image_info_command() const override {
        std::vector<std::string> argv;
        append_docker(argv);
        argv.insert(
            argv.end(),
            {"image", "inspect", "--format", "{{.Id}} {{json .RepoDigests}}", m_options.image});
        return argv;
    }

private:
    void append_docker(std::vector<std::string>& argv) const {
        auto cli = docker_cli(m_options);
        argv.insert(argv.end(), cli.begin(), cli.end());
    }

    std::vector<std::string> with_docker(std::vector<std::string> argv) const {
        append_docker(argv);
        return argv;
    }

    RuntimeOptions m_options;
};

}  // namespace

std::unique_ptr<Runtime> detail::make_docker_runtime(const RuntimeOptions& options) {
    return std::make_unique<DockerRuntime>(options);
}

}  // namespace cosmos::runtime
