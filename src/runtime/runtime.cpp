// make_runtime, request validation and the parsers shared by both runtimes (the status line,
// docker's image identity).

#include "runtime/runtime.hpp"

#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/runtime_detail.hpp"

namespace cosmos::runtime {

using core::ErrorCode;
using core::fail;

bool is_env_name(std::string_view name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
        return false;
    }
    for (char c : name) {
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

namespace {

bool has_nul(std::string_view s) {
    return s.find('\0') != std::string_view::npos;
}

core::Status invalid(const std::string& what) {
    return fail(ErrorCode::invalid_input, what);
}

core::Status check_env(const std::map<std::string, std::string>& env, bool secret) {
    for (const auto& [k, v] : env) {
        if (!is_env_name(k)) {
            return invalid(
                fmt::format("invalid environment variable name '{}': use "
                            "[A-Za-z_][A-Za-z0-9_]*",
                            k));
        }
        if (has_nul(v) ||
            (secret && (v.find('\n') != std::string::npos || v.find('\r') != std::string::npos))) {
            // The value itself is never echoed: it may be a secret.
            return invalid(fmt::format(
                "the value of {} contains a NUL byte{}", k, secret ? " or a line break" : ""));
        }
    }
    return {};
}

}  // namespace

core::Status validate_request(const RuntimeOptions& options, const LaunchRequest& request) {
    if (request.job_id.empty() ||
        request.job_id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789_.-") != std::string::npos) {
        return invalid(fmt::format("invalid job id '{}': use [A-Za-z0-9_.-]", request.job_id));
    }
    if (request.job_dir.empty() || request.job_dir[0] != '/') {
        return invalid(
            fmt::format("the job dir must be an absolute path, not '{}'", request.job_dir));
    }
    if (request.command.argv.empty()) {
        return invalid("the model command is empty");
    }
    for (const auto& s : request.command.argv) {
        if (has_nul(s)) {
            return invalid("a model argument contains a NUL byte");
        }
    }
    for (const auto* s : {&request.job_dir, &request.command.cwd, &request.checkpoint_dir}) {
        if (has_nul(*s)) {
            return invalid("a path contains a NUL byte");
        }
    }
    if (auto s = check_env(request.command.env, false); !s) {
        return s;
    }
    if (auto s = check_env(request.secret_env, true); !s) {
        return s;
    }
    if (options.kind == core::RuntimeKind::docker || options.kind == core::RuntimeKind::apptainer) {
        std::string checkout =
            options.cosmos_dir.empty() ? request.command.cwd : options.cosmos_dir;
        const char* bad = options.kind == core::RuntimeKind::apptainer ? ":," : ":";
        for (const auto& p : {checkout, request.checkpoint_dir, request.job_dir}) {
            if (p.empty() || p[0] != '/' || p.find_first_of(bad) != std::string::npos) {
                return invalid(fmt::format(
                    "cannot mount '{}' into a container: mounts need absolute paths without {}",
                    p,
                    options.kind == core::RuntimeKind::apptainer ? "':' or ','" : "':'"));
            }
        }
    }
    return {};
}

core::Result<std::unique_ptr<Runtime>> make_runtime(const RuntimeOptions& options) {
    if (options.kind == core::RuntimeKind::native) {
        return detail::make_native_runtime(options);
    }
    if (options.kind == core::RuntimeKind::docker || options.kind == core::RuntimeKind::apptainer) {
        if (options.image.empty()) {
            return fail(ErrorCode::config,
                        fmt::format("the {} runtime needs an image", options.kind),
                        "set the host's image (a pinned tag or digest, or a .sif file)");
        }
        return options.kind == core::RuntimeKind::docker ? detail::make_docker_runtime(options)
                                                         : detail::make_native_runtime(options);
    }
    return fail(ErrorCode::config,
                fmt::format("unknown runtime '{}'", core::to_string(options.kind)),
                "use native, docker or apptainer");
}

std::vector<std::string> docker_cli(const RuntimeOptions& options) {
    std::vector<std::string> argv{options.docker};
    argv.insert(argv.end(), options.docker_global_args.begin(), options.docker_global_args.end());
    return argv;
}

std::vector<std::string> docker_run_options(const RuntimeOptions& options,
                                            const std::string& cwd,
                                            const std::vector<std::string>& mounts) {
    std::string checkout = options.cosmos_dir.empty() ? cwd : options.cosmos_dir;
    std::vector<std::string> argv{
        "--ipc=host", "--shm-size=" + options.shm_size, "-v", checkout + ":/workspace"};
    for (const auto& m : mounts) {
        argv.insert(argv.end(), {"-v", m + ":" + m});
    }
    argv.insert(argv.end(), {"-w", "/workspace", "-e", "PYTHONPATH=/workspace"});
    return argv;
}

std::vector<std::string> apptainer_argv(const RuntimeOptions& options,
                                        const std::string& cwd,
                                        const std::vector<std::string>& mounts,
                                        const std::vector<std::string>& argv) {
    std::string checkout = options.cosmos_dir.empty() ? cwd : options.cosmos_dir;
    std::vector<std::string> out{options.apptainer, "exec"};
    if (!options.gpus_flag.empty()) {
        out.push_back("--nv");
    }
    out.insert(out.end(), {"--bind", checkout + ":/workspace"});
    for (const auto& m : mounts) {
        out.insert(out.end(), {"--bind", m + ":" + m});
    }
    out.insert(out.end(), {"--pwd", "/workspace", "--env", "PYTHONPATH=/workspace", options.image});
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

std::string container_name(const std::string& job_id) {
    return "cosmos-" + job_id;
}

core::Result<Observed> parse_state_line(int exit_code, const std::string& out) {
    std::istringstream in(out);
    std::string state;
    std::string value;
    in >> state >> value;
    if (exit_code != 0 || state.empty()) {
        return fail(ErrorCode::remote_failed,
                    fmt::format("the status command failed (exit {}){}",
                                exit_code,
                                out.empty() ? "" : ": " + out.substr(0, 200)));
    }
    auto code = [&]() -> int {
        try {
            std::size_t used = 0;
            int n = std::stoi(value, &used);
            return used == value.size() ? n : -1;
        } catch (const std::exception&) {
            return -1;
        }
    };
    if (state == "running") {
        return Observed{ProcessState::running, -1};
    }
    if (state == "exited") {
        return Observed{ProcessState::exited, code()};
    }
    if (state == "vanished") {
        return Observed{ProcessState::exited, -1};
    }
    if (state == "absent") {
        return Observed{ProcessState::absent, -1};
    }
    return fail(ErrorCode::remote_failed,
                fmt::format("unexpected status output: {}", out.substr(0, 200)));
}

core::Result<ImageInfo> parse_image_inspect(const std::string& out) {
    auto bad = [&] {
        return fail(ErrorCode::remote_failed,
                    fmt::format("unexpected docker image inspect output: {}", out.substr(0, 200)));
    };
    auto space = out.find(' ');
    if (space == std::string::npos || !out.starts_with("sha256:")) {
        return bad();
    }
    ImageInfo info;
    info.id = out.substr(0, space);
    auto digests = nlohmann::json::parse(out.substr(space + 1), nullptr, false);
    if (digests.is_discarded() || !(digests.is_array() || digests.is_null())) {
        return bad();
    }
    if (digests.is_array()) {
        for (const auto& d : digests) {
            if (!d.is_string()) {
                return bad();
            }
            info.repo_digests.push_back(d.get<std::string>());
        }
    }
    return info;
}

}  // namespace cosmos::runtime
