#include "backends/model_launch.hpp"

#include "core/redact.hpp"

namespace cosmos::backends {

nlohmann::ordered_json describe_launch(const model::LaunchCommand& command) {
    nlohmann::ordered_json env = nlohmann::ordered_json::object();
    for (const auto& [k, v] : command.env) {
        env[k] = core::is_secret_name(k) ? "***" : core::redact(v);
    }
    nlohmann::ordered_json argv = nlohmann::ordered_json::array();
    for (const auto& a : command.argv) {
        argv.push_back(core::redact(a));
    }
    return nlohmann::ordered_json{{"argv", argv}, {"env", env}, {"cwd", command.cwd}};
}

}  // namespace cosmos::backends
