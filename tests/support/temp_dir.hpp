#pragma once
// A fresh directory under the system temp dir, removed with everything in it on destruction.

#include <filesystem>

namespace cosmos::test {

class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    // The directory's absolute path.
    const std::filesystem::path& path() const { return m_path; }

    // Returns path() / name.
    std::filesystem::path operator/(const std::filesystem::path& name) const {
        return m_path / name;
    }

private:
    std::filesystem::path m_path;
};

}  // namespace cosmos::test
