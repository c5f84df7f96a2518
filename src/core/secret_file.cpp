#include "core/secret_file.hpp"

#include <sys/stat.h>

#include <fmt/format.h>

#include "core/read_file.hpp"
#include "core/redact.hpp"

namespace cosmos::core {

Result<std::string> read_secret_file(const std::filesystem::path& path, std::string_view what) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return fail(ErrorCode::not_found,
                    fmt::format("{} {} does not exist", what, path.string()),
                    "put it there with mode 0600");
    }
    if ((st.st_mode & 077) != 0) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} {} has mode {:04o}; it must not be readable by others (0600)",
                                what,
                                path.string(),
                                st.st_mode & 07777),
                    fmt::format("chmod 600 {}", path.string()));
    }
    COSMOS_TRY(std::string text, read_file(path, kSecretFileMax, what));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
        text.pop_back();
    }
    register_secret(text);
    if (text.empty() || text.find_first_of("\r\n") != std::string::npos) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} {} must hold one line", what, path.string()));
    }
    return text;
}

}  // namespace cosmos::core
