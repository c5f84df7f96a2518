// The `docker` runtime: the model runs in a detached container named cosmos-<job id>, with the
// Cosmos checkout at /workspace and the checkpoint and job dirs mounted at their host paths.
// The container's command is a constant sh wrapper that appends the model's output to
// JOB_DIR/run.log and records its exit status in JOB_DIR/exit_code, exactly like the native
// supervisor, so that following and collecting the log are the same for both runtimes (and the
// log survives `docker rm`). As PID 1 it forwards SIGTERM from `docker stop` to its whole process
// group (torchrun and its workers). State comes from `docker inspect`. The scripts are
// src/runtime/scripts/docker-*.sh.

#include "core/embedded_scripts.hpp"
#include "runtime/runtime_detail.hpp"

namespace cosmos::runtime {

namespace {

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
        std::vector<std::string> argv{
            "sh", "-c", std::string(scripts::k_docker_launch), "cosmos-launch", r.job_dir};
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
                    {m_options.image,
                     "sh",
                     "-c",
                     std::string(scripts::k_docker_container),
                     "cosmos-job",
                     r.job_dir});
        argv.insert(argv.end(), r.command.argv.begin(), r.command.argv.end());
        return argv;
    }

    std::vector<std::string> status_command(const LaunchRequest& r) const override {
        return with_docker({"sh",
                            "-c",
                            std::string(scripts::k_docker_status),
                            "cosmos-status",
                            container_name(r.job_id)});
    }

    core::Result<Observed> parse_status(int exit_code, const std::string& out) const override {
        return parse_state_line(exit_code, out);
    }

    std::vector<std::string> kill_command(const LaunchRequest& r) const override {
        return with_docker({"sh",
                            "-c",
                            std::string(scripts::k_docker_kill),
                            "cosmos-kill",
                            container_name(r.job_id)});
    }

    std::vector<std::string> follow_log_command(const LaunchRequest& r) const override {
        return with_docker({"sh",
                            "-c",
                            std::string(scripts::k_docker_follow),
                            "cosmos-follow",
                            r.job_dir,
                            container_name(r.job_id)});
    }

    std::string log_path(const LaunchRequest& r) const override { return detail::log_file(r); }

    std::vector<std::string> cleanup_command(const LaunchRequest& r) const override {
        return with_docker({"sh",
                            "-c",
                            std::string(scripts::k_docker_cleanup),
                            "cosmos-cleanup",
                            r.job_dir,
                            container_name(r.job_id)});
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
