#include "core/read_file.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace cosmos::core {
namespace {

std::string_view file_type_name(mode_t mode) {
    if (S_ISFIFO(mode)) {
        return "a FIFO";
    }
    if (S_ISDIR(mode)) {
        return "a directory";
    }
    if (S_ISCHR(mode)) {
        return "a character device";
    }
    if (S_ISBLK(mode)) {
        return "a block device";
    }
    if (S_ISSOCK(mode)) {
        return "a socket";
    }
    return "not a plain file";
}

// Owns a file descriptor: closes it on every path out.
class Fd {
public:
    explicit Fd(int fd) : m_fd(fd) {}
    Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    Fd& operator=(Fd&&) = delete;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    int get() const { return m_fd; }

private:
    int m_fd;
};

struct Opened {
    Fd fd;
    std::uint64_t size = 0;
};

Error too_large(const std::filesystem::path& path,
                std::string_view what,
                std::uint64_t size,
                std::uint64_t max_bytes,
                bool at_least) {
    return make_error(ErrorCode::invalid_input,
                      fmt::format("{} {} is too large: {}{} (the limit is {})",
                                  what,
                                  path.string(),
                                  at_least ? "over " : "",
                                  format_size(size),
                                  format_size(max_bytes)),
                      "use a smaller file, or split it");
}

// Opens `path` for reading without blocking (a FIFO with no writer would) and refuses anything
// but a regular file; the descriptor is blocking again when returned.
Result<Opened> open_regular(const std::filesystem::path& path, std::string_view what) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0) {
        int err = errno;
        return fail(err == ENOENT ? ErrorCode::not_found : ErrorCode::io,
                    fmt::format("cannot open {} {}: {}", what, path.string(), std::strerror(err)));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return fail(
            ErrorCode::io,
            fmt::format("cannot stat {} {}: {}", what, path.string(), std::strerror(errno)));
    }
    if (!S_ISREG(st.st_mode)) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} {} is not a regular file ({})",
                                what,
                                path.string(),
                                file_type_name(st.st_mode)),
                    "name a regular file");
    }
    int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
        return fail(
            ErrorCode::io,
            fmt::format("cannot read {} {}: {}", what, path.string(), std::strerror(errno)));
    }
    return Opened{std::move(fd), static_cast<std::uint64_t>(st.st_size)};
}

// Reads up to `max_bytes` (+1 to tell a file that grew past the cap when `refuse_more`).
Result<std::string> read_capped(int fd,
                                const std::filesystem::path& path,
                                std::string_view what,
                                std::uint64_t max_bytes,
                                bool refuse_more) {
    std::string out;
    std::array<char, 65536> buf{};
    const std::uint64_t limit = refuse_more ? max_bytes + 1 : max_bytes;
    while (out.size() < limit) {
        std::size_t want = std::min<std::uint64_t>(buf.size(), limit - out.size());
        ssize_t n = ::read(fd, buf.data(), want);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return fail(
                ErrorCode::io,
                fmt::format("cannot read {} {}: {}", what, path.string(), std::strerror(errno)));
        }
        if (n == 0) {
            break;
        }
        out.append(buf.data(), static_cast<std::size_t>(n));
    }
    if (refuse_more && out.size() > max_bytes) {  // grew while read
        return fail(too_large(path, what, max_bytes, max_bytes, true));
    }
    return out;
}

}  // namespace

std::string format_size(std::uint64_t bytes) {
    if (bytes >= kMiB && bytes % kMiB == 0) {
        return fmt::format("{} MiB", bytes / kMiB);
    }
    if (bytes >= kKiB && bytes % kKiB == 0) {
        return fmt::format("{} KiB", bytes / kKiB);
    }
    return fmt::format("{} bytes", bytes);
}

Result<std::string> read_file(const std::filesystem::path& path,
                              std::uint64_t max_bytes,
                              std::string_view what) {
    COSMOS_TRY(auto opened, open_regular(path, what));
    if (opened.size > max_bytes) {
        return fail(too_large(path, what, opened.size, max_bytes, false));
    }
    return read_capped(opened.fd.get(), path, what, max_bytes, true);
}

Result<std::string> read_file_head(const std::filesystem::path& path,
                                   std::size_t n,
                                   std::string_view what) {
    COSMOS_TRY(auto opened, open_regular(path, what));
    return read_capped(opened.fd.get(), path, what, n, false);
}

}  // namespace cosmos::core
