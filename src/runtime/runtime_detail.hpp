#pragma once
// Internals shared by the runtime implementations (native_runtime.cpp, docker_runtime.cpp,
// runtime.cpp): job-dir file names and the constructors make_runtime picks from.

#include <memory>
#include <string>
#include <string_view>

#include "runtime/runtime.hpp"

namespace cosmos::runtime::detail {

inline std::string secret_path(const LaunchRequest& r) {
    return r.job_dir + "/secret.env";
}
inline std::string log_file(const LaunchRequest& r) {
    return r.job_dir + "/run.log";
}

std::unique_ptr<Runtime> make_native_runtime(const RuntimeOptions& options);
std::unique_ptr<Runtime> make_docker_runtime(const RuntimeOptions& options);

}  // namespace cosmos::runtime::detail
