#pragma once
// Test helpers for the config tests: a temporary directory that is also the working directory,
// and an environment in which every variable the config reads is saved and restored.
// (Candidates for tests/support/ once another layer needs them.)

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace cosmos::test {

// Saves the variables the config reads, clears them, and restores them on destruction.
class ConfigEnv {
public:
    ConfigEnv() {
        for (const char* name : k_names) {
            const char* v = std::getenv(name);
            m_saved[name] = v != nullptr ? std::optional<std::string>(v) : std::nullopt;
            ::unsetenv(name);
        }
    }
    ~ConfigEnv() {
        for (const auto& [name, value] : m_saved) {
            if (value) {
                ::setenv(name.c_str(), value->c_str(), 1);
            } else {
                ::unsetenv(name.c_str());
            }
        }
    }
    ConfigEnv(const ConfigEnv&) = delete;
    ConfigEnv& operator=(const ConfigEnv&) = delete;

    static void set(const char* name, const std::string& value) {
        ::setenv(name, value.c_str(), 1);
    }
    static void unset(const char* name) { ::unsetenv(name); }

private:
    static constexpr const char* k_names[] = {"HOME",
                                              "XDG_CONFIG_HOME",
                                              "XDG_DATA_HOME",
                                              "COSMOS_CONFIG",
                                              "COSMOS_DATA_DIR",
                                              "COSMOS_HOST"};
    std::map<std::string, std::optional<std::string>> m_saved;
};

// A fixture that runs each test in a fresh temporary directory (also the working directory)
// with HOME=<tmp>/home and no XDG or COSMOS variables set; everything is restored afterwards.
class ConfigFixture : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "cosmos-config-test-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        m_root = std::filesystem::path(pattern);
        m_old_cwd = std::filesystem::current_path();
        std::filesystem::create_directories(m_root / "home");
        std::filesystem::create_directories(m_root / "work");
        std::filesystem::current_path(m_root / "work");
        ConfigEnv::set("HOME", (m_root / "home").string());
    }
    void TearDown() override {
        std::filesystem::current_path(m_old_cwd);
        std::error_code ec;
        std::filesystem::remove_all(m_root, ec);
    }

    // Writes `text` to `path` (relative paths: under the temp root), creating directories.
    std::filesystem::path write(const std::filesystem::path& path, const std::string& text) {
        std::filesystem::path full = path.is_absolute() ? path : m_root / path;
        std::filesystem::create_directories(full.parent_path());
        std::ofstream(full) << text;
        return full;
    }

    const std::filesystem::path& root() const { return m_root; }
    std::filesystem::path home() const { return m_root / "home"; }
    std::filesystem::path work() const { return m_root / "work"; }

private:
    ConfigEnv m_env;
    std::filesystem::path m_root;
    std::filesystem::path m_old_cwd;
};

}  // namespace cosmos::test
