#include "support/temp_dir.hpp"

#include <stdexcept>
#include <string>
#include <system_error>

#include <stdlib.h>

namespace cosmos::test {

TempDir::TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "cosmos-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed for " + pattern);
    }
    m_path = pattern;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
}

}  // namespace cosmos::test
