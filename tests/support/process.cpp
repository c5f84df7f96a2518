#include "support/process.hpp"

#include <fstream>
#include <sstream>

#include "transport/local_process.hpp"

namespace cosmos::test {

Ran run_command(const std::vector<std::string>& argv,
                const std::map<std::string, std::string>& env) {
    Ran r;
    auto exit = transport::run_process({argv, env, ""}, [&](std::string_view line) {
        r.out += line;
        r.out += "\n";
    });
    if (exit) {
        r.started = true;
        r.exit_code = exit->exit_code;
    } else {
        r.out += exit.error().message;
    }
    return r;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace cosmos::test
