#include "core/redact.hpp"

#include <cctype>
#include <mutex>
#include <regex>
#include <vector>

namespace cosmos::core {

namespace {
std::mutex g_mutex;
std::vector<std::string>& secrets() {
    static std::vector<std::string> s;
    return s;
}
}  // namespace

void register_secret(std::string_view secret) {
    if (secret.size() < 4) {
        return;
    }
    std::lock_guard lock(g_mutex);
    for (const auto& s : secrets()) {
        if (s == secret) {
            return;
        }
    }
    secrets().emplace_back(secret);
}

std::string redact(std::string_view text) {
    std::string out(text);
    {
        std::lock_guard lock(g_mutex);
        for (const auto& s : secrets()) {
            for (auto pos = out.find(s); pos != std::string::npos; pos = out.find(s, pos + 3)) {
                out.replace(pos, s.size(), "***");
            }
        }
    }
    static const std::regex k_patterns(
        R"((hf_[A-Za-z0-9]{8,})|((?:TOKEN|SECRET|PASSWORD|API_KEY)[A-Z_]*=)[^\s'"]+|(Bearer )[A-Za-z0-9._~+/=-]+)",
        std::regex::optimize);
    if (out.find("hf_") == std::string::npos && out.find('=') == std::string::npos &&
        out.find("Bearer") == std::string::npos) {
        return out;
    }
    return std::regex_replace(out, k_patterns, "$2$3***");
}

bool is_secret_name(std::string_view name) {
    std::string upper;
    for (char c : name) {
        upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    for (std::string_view word : {"TOKEN", "SECRET", "PASSWORD", "KEY"}) {
        if (upper.find(word) != std::string::npos) {
            return true;
        }
    }
    return false;
}

}  // namespace cosmos::core
