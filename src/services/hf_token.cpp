// Reading the Hugging Face token from the environment or a 0600 token file.

#include "services/hf_token.hpp"

#include <cstdlib>

#include <sys/stat.h>

#include <fmt/format.h>

#include "core/read_file.hpp"
#include "core/redact.hpp"
#include "core/secret_file.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;

core::Result<std::string> read_token_file(const std::filesystem::path& path) {
    auto token = core::read_secret_file(path, "token file");
    if (!token && token.error().code == ErrorCode::not_found) {
        return fail(ErrorCode::not_found,
                    fmt::format("token file {} does not exist", path.string()),
                    "put the token there with mode 0600, or set HF_TOKEN");
    }
    return token;
}

core::Result<std::optional<std::string>> huggingface_token(const config::Config& config) {
    if (const char* env = std::getenv("HF_TOKEN"); env != nullptr && *env != '\0') {
        core::register_secret(env);
        return std::optional<std::string>(env);
    }
    if (config.huggingface.token_file.empty()) {
        return std::optional<std::string>();
    }
    COSMOS_TRY(auto token, read_token_file(config.huggingface.token_file));
    return std::optional<std::string>(std::move(token));
}

}  // namespace cosmos::services
