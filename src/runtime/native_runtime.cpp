// The `native` runtime: the model runs in the host's own Python environment, started by a
// constant POSIX sh supervisor (cosmos-job.sh, written into the job dir) that outlives the SSH
// session: `launch` refuses a live job, then starts `supervise` with `setsid -f` (stdin
// /dev/null, output appended to run.log) and waits until the pid file exists; `supervise` exports
// the environment (pairs of positional arguments), sources and deletes the 0600 secret file,
// starts the model with setsid (so its pid is its process group and session: kill reaches
// torchrun and all its workers) and records its exit status in exit_code. The supervisor is in
// a session of its own, so killing the model's group never kills the process that records how
// it ended (src/runtime/scripts/native-*.sh; docs/runtimes.md has the whole protocol).

#include "core/embedded_scripts.hpp"
#include "core/shell_quote.hpp"
#include "runtime/runtime_detail.hpp"

namespace cosmos::runtime {

namespace {

class NativeRuntime final : public Runtime {
public:
    explicit NativeRuntime(RuntimeOptions options) : m_options(std::move(options)) {}

    std::string name() const override {
        return m_options.kind == core::RuntimeKind::apptainer ? "apptainer" : "native";
    }

    std::vector<FileToWrite> launch_files(const LaunchRequest& r) const override {
        std::vector<FileToWrite> files{
            {supervisor_path(r), std::string(scripts::k_native_supervisor), 0700}};
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
        bool contained = m_options.kind == core::RuntimeKind::apptainer;
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
        return {"sh", "-c", std::string(scripts::k_native_status), "cosmos-status", r.job_dir};
    }

    core::Result<Observed> parse_status(int exit_code, const std::string& out) const override {
        return parse_state_line(exit_code, out);
    }

    std::vector<std::string> kill_command(const LaunchRequest& r) const override {
        return {"sh", "-c", std::string(scripts::k_native_kill), "cosmos-kill", r.job_dir};
    }

    std::vector<std::string> follow_log_command(const LaunchRequest& r) const override {
        return {"sh", "-c", std::string(scripts::k_native_follow), "cosmos-follow", r.job_dir};
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
