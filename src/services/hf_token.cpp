// Reading the Hugging Face token from the environment or a 0600 token file.

#include "services/hf_token.hpp"

#include <cstdlib>

#include <sys/stat.h>

#include <fmt/format.h>

#include "core/read_file.hpp"
#include "core/redact.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;

core::Result<std::string> read_token_file(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return fail(ErrorCode::not_found,
                    fmt::format("token file {} does not exist", path.string()),
                    "put the token there with mode 0600, or set HF_TOKEN");
    }
    if ((st.st_mode & 077) != 0) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("token file {} has mode {:04o}; it must not be readable by others "
                                "(0600)",
                                path.string(),
                                st.st_mode & 07777),
                    fmt::format("chmod 600 {}", path.string()));
    }
    COSMOS_TRY(std::string token, core::read_file(path, core::kSecretFileMax, "token file"));
    while (!token.empty() &&
           (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
        token.pop_back();
    }
    core::register_secret(token);
    if (token.empty() || token.find_first_of("\r\n") != std::string::npos) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("token file {} must hold the token on one line", path.string()));
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
