#pragma once
// transport::Shell on this machine: commands are argv vectors started with posix_spawn (no shell
// in between), files are local files. It lets the code paths written for remote hosts (stage,
// launch, watch, collect) drive a host that is this machine, such as a Slurm login node the
// orchestrator itself runs on (`kind = "slurm"` without an address). Paths are used as given;
// "~" is not expanded (remote_path() maps it to the home directory's relative form, which here
// is relative to the current directory, so configure absolute paths for local hosts).

#include <memory>

#include "transport/shell.hpp"

namespace cosmos::transport {

class LocalShell final : public Shell {
public:
    std::string describe() const override { return "local"; }
    core::Result<CommandResult> run(const std::vector<std::string>& argv,
                                    const CommandOptions& options = {}) override;
    core::Result<int> stream(const std::vector<std::string>& argv,
                             const OutputLineFn& on_line,
                             const std::atomic<bool>* stop = nullptr) override;
    core::Result<std::optional<FileInfo>> stat(const std::string& path) override;
    core::Status make_dirs(const std::string& path) override;
    core::Result<std::uint64_t> upload(const std::filesystem::path& local,
                                       const std::string& remote,
                                       const ProgressFn& progress = {}) override;
    core::Result<std::uint64_t> upload_hashed(const std::filesystem::path& local,
                                              const std::string& remote,
                                              UploadDigest& digest,
                                              const ProgressFn& progress = {}) override;
    core::Result<std::uint64_t> download(const std::string& remote,
                                         const std::filesystem::path& local,
                                         const ProgressFn& progress = {}) override;
    core::Status write_file(const std::string& remote,
                            std::string_view content,
                            int mode = 0644) override;
    core::Result<std::string> read_file(const std::string& remote,
                                        std::uint64_t max_bytes = 16u << 20) override;
    core::Result<std::vector<std::string>> list_dir(const std::string& remote) override;
    core::Status replace_file(const std::string& from, const std::string& to) override;
    core::Status set_mtime(const std::string& path, std::int64_t seconds) override;
    core::Result<std::optional<std::uint64_t>> free_bytes(const std::string& path) override;
};

std::shared_ptr<Shell> local_shell();

}  // namespace cosmos::transport
