#pragma once
// Small helpers tests share: run a command and keep its exit code and output, read a whole file.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace cosmos::test {

struct Ran {
    bool started = false;  // false: the command could not be started (`out` says why)
    int exit_code = -1;
    std::string out;  // stdout and stderr, line by line
};

// Runs `argv` (with `env` added to the environment) to its end.
Ran run_command(const std::vector<std::string>& argv,
                const std::map<std::string, std::string>& env = {});

// The whole content of `path` ("" when it cannot be read).
std::string read_file(const std::filesystem::path& path);

}  // namespace cosmos::test
