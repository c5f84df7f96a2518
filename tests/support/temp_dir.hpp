#pragma once
// A fresh directory under the system temp dir, removed with everything in it on destruction.

#include <filesystem>
#include <fstream>
#include <string_view>

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

    // Writes `content` to `relative` (creating its folders); returns the full path.
    std::filesystem::path write(const std::filesystem::path& relative,
                                std::string_view content) const {
        auto full = m_path / relative;
        std::filesystem::create_directories(full.parent_path());
        std::ofstream out(full, std::ios::binary);
        out << content;
        return full;
    }

private:
    std::filesystem::path m_path;
};

}  // namespace cosmos::test
