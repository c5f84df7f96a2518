#pragma once

#include <filesystem>

namespace cosmos::core {

// An exclusive advisory lock (flock) on a file, created when missing, held until it goes out
// of scope. It orders cosmos processes on one machine (two `cosmos inference` runs, a worker
// and the CLI); threads of one process each open their own descriptor, so it orders them too.
// ok() is false when the file cannot be opened: callers go on unlocked, as before locking.
class FileLock {
public:
    explicit FileLock(const std::filesystem::path& path);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    bool ok() const { return m_fd >= 0; }

private:
    int m_fd;
};

}  // namespace cosmos::core
