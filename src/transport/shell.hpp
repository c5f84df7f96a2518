#pragma once
// Where commands run and files live: this machine (LocalShell) or an SSH host (SshShell). The
// backends drive a job's remote life (stage → launch → watch → collect → cancel) through this one
// interface, so the local and SSH paths are the same code apart from the shell underneath.
//
// Commands are argv vectors. Implementations that need a shell string (SSH exec requests are
// strings) build it with core::shell_join and nothing else: no caller ever hands a raw string to a
// shell. Remote paths are POSIX strings; local paths are std::filesystem::path.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/sha256.hpp"

namespace cosmos::transport {

struct CommandResult {
    int exit_code = 0;  // the command's exit status (128+N when ended by signal N)
    std::string out;    // stdout
    std::string err;    // stderr
};

struct CommandOptions {
    std::string stdin_data;  // written to the command's stdin, which is then closed
    std::chrono::milliseconds timeout{std::chrono::minutes(2)};  // timeout → ErrorCode::timeout
};

struct FileInfo {
    std::uint64_t size = 0;
    std::int64_t mtime = 0;  // seconds since the epoch
    bool is_dir = false;
};

// One entry of Shell::list_dir_info.
struct DirEntry {
    std::string name;
    FileInfo info;
};

struct TransferProgress {
    std::uint64_t done = 0;   // bytes of this file on the destination so far (resumed bytes count)
    std::uint64_t total = 0;  // size of the file
};

using ProgressFn = std::function<void(const TransferProgress&)>;

// The hashing side of Shell::upload_hashed.
struct UploadDigest {
    core::Sha256Stream sha;          // fed the file in order: has seen its first sha.bytes()
    std::uint64_t trusted_part = 0;  // bytes of an existing .part proven to match the file
};
using OutputLineFn = std::function<void(std::string_view line)>;

class Shell {
public:
    virtual ~Shell() = default;

    // "local" or "user@address:port", for messages.
    virtual std::string describe() const = 0;

    // Runs argv to completion and returns its exit code and output. A non-zero exit is not an
    // error here (callers decide); failing to run it at all is (host_unreachable, timeout...).
    virtual core::Result<CommandResult> run(const std::vector<std::string>& argv,
                                            const CommandOptions& options = {}) = 0;

    // Runs argv and calls `on_line` for each line of its stdout and stderr (interleaved as they
    // arrive) until it ends, returning its exit code. When `stop` becomes true the stream is
    // closed and ErrorCode::interrupted returned (the remote command itself is not signalled:
    // tails are stopped this way, processes are killed by the runtime's own command).
    virtual core::Result<int> stream(const std::vector<std::string>& argv,
                                     const OutputLineFn& on_line,
                                     const std::atomic<bool>* stop = nullptr) = 0;

    // Metadata of `path`, or nullopt when it does not exist.
    virtual core::Result<std::optional<FileInfo>> stat(const std::string& path) = 0;

    // Creates `path` and its parents (like mkdir -p).
    virtual core::Status make_dirs(const std::string& path) = 0;

    // Copies a local file to `remote`. Data goes to `remote + ".part"` first and is renamed at the
    // end, so a file at `remote` is always complete; an existing shorter .part is resumed. A
    // dropped connection is retried with backoff (reconnecting) before giving up. Returns the
    // bytes actually sent (0 when nothing was missing).
    virtual core::Result<std::uint64_t> upload(const std::filesystem::path& local,
                                               const std::string& remote,
                                               const ProgressFn& progress = {}) = 0;

    // upload() that also feeds every byte of `local` to digest.sha as it is read for sending (one
    // read of the file serves the copy and its hash), and resumes an existing .part only up to
    // digest.trusted_part: what lies beyond is sent again. On success digest.sha has seen the
    // whole file. The default (shells without transfers of their own, e.g. test stand-ins)
    // hashes in a pass of its own and then calls upload().
    virtual core::Result<std::uint64_t> upload_hashed(const std::filesystem::path& local,
                                                      const std::string& remote,
                                                      UploadDigest& digest,
                                                      const ProgressFn& progress = {});

    // Copies `remote` to a local file the same way (local .part, resume, rename at the end).
    // Returns the bytes actually received.
    virtual core::Result<std::uint64_t> download(const std::string& remote,
                                                 const std::filesystem::path& local,
                                                 const ProgressFn& progress = {}) = 0;

    // Writes a small file (specs, scripts, env files) atomically with `mode` permissions: the
    // content never appears on any command line.
    virtual core::Status write_file(const std::string& remote,
                                    std::string_view content,
                                    int mode = 0644) = 0;

    // Reads a small file whole; fails with not_found when it does not exist and invalid_input
    // when it is larger than `max_bytes`.
    virtual core::Result<std::string> read_file(const std::string& remote,
                                                std::uint64_t max_bytes = 16u << 20) = 0;

    // Lists the names (not paths) in a directory; not_found when it does not exist.
    virtual core::Result<std::vector<std::string>> list_dir(const std::string& remote) = 0;

    // list_dir with each entry's metadata (sorted by name), in one listing where the transport
    // has one (SFTP's readdir carries sizes and times). The default stats each name; an entry
    // gone between the listing and its stat is left out.
    virtual core::Result<std::vector<DirEntry>> list_dir_info(const std::string& remote);

    // Renames `from` to `to` atomically, replacing `to` when it exists; not_found when `from`
    // does not exist. The default runs `mv -f`.
    virtual core::Status replace_file(const std::string& from, const std::string& to);

    // Sets the modification (and access) time of `path`, in seconds since the epoch. The
    // default runs `touch`.
    virtual core::Status set_mtime(const std::string& path, std::int64_t seconds);

    // Bytes an unprivileged user may still write on the file system holding `path`; nullopt
    // when the host does not say (an SFTP server without statvfs). The default runs `df -Pk`.
    virtual core::Result<std::optional<std::uint64_t>> free_bytes(const std::string& path);

    // Makes upload() and download() stop with ErrorCode::interrupted soon after *flag becomes
    // true (Ctrl-C), keeping their .part so a later call resumes it. Set it before use; the
    // flag must outlive the Shell's transfers. Implementations without long transfers may
    // ignore it.
    void set_cancel_flag(const std::atomic<bool>* flag) { m_cancel = flag; }

protected:
    const std::atomic<bool>* cancel_flag() const { return m_cancel; }

private:
    const std::atomic<bool>* m_cancel = nullptr;
};

}  // namespace cosmos::transport
