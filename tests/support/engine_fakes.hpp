#pragma once
// Fakes at the run engine's two seams (backends::HostSeams), so the whole engine above them —
// staging, launch, watch, collect, decide and record — runs in a unit test in milliseconds:
//   FakeModel   a runtime::Runtime whose "model" is a few lines of sh that write the log, the
//               outputs and the exit code a scenario asks for, at once;
//   FlakyShell  this machine's shell, whose log stream drops the connection after some lines, a
//               given number of times (a host that goes away mid-watch).

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "backends/remote_job.hpp"
#include "runtime/runtime.hpp"
#include "transport/local_shell.hpp"

namespace cosmos::test {

// What the fake model does in one job.
struct ModelScenario {
    int exit_code = 0;
    int chunks = 1;                  // "Completed diffusion sampling" lines
    std::vector<bool> videos{true};  // one per batch line (a single run: the first)
    bool guardrail = false;          // logs "Guardrail blocked" (no video where videos[i] is false)
    std::string error_line;          // a last line such as "RuntimeError: boom"
};

class FakeModel final : public runtime::Runtime {
public:
    explicit FakeModel(ModelScenario scenario) : m_scenario(std::move(scenario)) {}
    std::string name() const override { return "fake"; }
    std::vector<runtime::FileToWrite> launch_files(const runtime::LaunchRequest&) const override {
        return {};
    }
    std::vector<std::string> launch_command(const runtime::LaunchRequest& r) const override;
    std::vector<std::string> status_command(const runtime::LaunchRequest& r) const override;
    core::Result<runtime::Observed> parse_status(int exit_code,
                                                 const std::string& out) const override;
    std::vector<std::string> kill_command(const runtime::LaunchRequest&) const override {
        return {"true"};
    }
    std::vector<std::string> follow_log_command(const runtime::LaunchRequest& r) const override {
        return {"cat", r.job_dir + "/run.log"};
    }
    std::string log_path(const runtime::LaunchRequest& r) const override {
        return r.job_dir + "/run.log";
    }
    std::vector<std::string> cleanup_command(const runtime::LaunchRequest&) const override {
        return {"true"};
    }
    std::optional<std::vector<std::string>> image_info_command() const override {
        return std::nullopt;
    }

private:
    ModelScenario m_scenario;
};

class FlakyShell final : public transport::Shell {
public:
    // The first `drops` streams end with host_unreachable after `lines_before_drop` lines.
    FlakyShell(int drops, int lines_before_drop)
        : m_drops(drops), m_lines_before_drop(lines_before_drop) {}
    std::string describe() const override { return "flaky"; }
    core::Result<transport::CommandResult> run(const std::vector<std::string>& argv,
                                               const transport::CommandOptions& options) override {
        return m_local.run(argv, options);
    }
    core::Result<int> stream(const std::vector<std::string>& argv,
                             const transport::OutputLineFn& on_line,
                             const std::atomic<bool>* stop) override;
    core::Result<std::optional<transport::FileInfo>> stat(const std::string& path) override {
        return m_local.stat(path);
    }
    core::Status make_dirs(const std::string& path) override { return m_local.make_dirs(path); }
    core::Result<std::uint64_t> upload(const std::filesystem::path& local,
                                       const std::string& remote,
                                       const transport::ProgressFn& progress) override {
        return m_local.upload(local, remote, progress);
    }
    core::Result<std::uint64_t> upload_hashed(const std::filesystem::path& local,
                                              const std::string& remote,
                                              transport::UploadDigest& digest,
                                              const transport::ProgressFn& progress) override {
        return m_local.upload_hashed(local, remote, digest, progress);
    }
    core::Result<std::uint64_t> download(const std::string& remote,
                                         const std::filesystem::path& local,
                                         const transport::ProgressFn& progress) override {
        return m_local.download(remote, local, progress);
    }
    core::Status write_file(const std::string& remote,
                            std::string_view content,
                            int mode) override {
        return m_local.write_file(remote, content, mode);
    }
    core::Result<std::string> read_file(const std::string& remote,
                                        std::uint64_t max_bytes) override {
        return m_local.read_file(remote, max_bytes);
    }
    core::Result<std::vector<std::string>> list_dir(const std::string& remote) override {
        return m_local.list_dir(remote);
    }
    int streams() const { return m_streams; }

private:
    transport::LocalShell m_local;
    std::atomic<int> m_drops;
    int m_lines_before_drop;
    std::atomic<int> m_streams{0};
};

// Installs `model` (and `shell`, when given) as every host's seams until destroyed.
class SeamsGuard {
public:
    SeamsGuard(ModelScenario model, std::shared_ptr<transport::Shell> shell = nullptr);
    ~SeamsGuard();
    SeamsGuard(const SeamsGuard&) = delete;
    SeamsGuard& operator=(const SeamsGuard&) = delete;

private:
    backends::HostSeams m_previous;
};

}  // namespace cosmos::test
