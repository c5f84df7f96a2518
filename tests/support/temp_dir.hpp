#pragma once
// A fresh folder under the system temp dir, removed with everything in it on destruction.

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace cosmos::test {

class TempDir {
public:
    TempDir() {
        std::random_device rd;
        m_path = std::filesystem::temp_directory_path() /
                 fmt::format("cosmos-test-{:08x}{:08x}", rd(), rd());
        std::filesystem::create_directories(m_path);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }

    const std::filesystem::path& path() const { return m_path; }

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
