#include "core/redact.hpp"

#include <cctype>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

namespace cosmos::core {

namespace {
std::mutex g_mutex;
std::vector<std::string>& secrets() {
    static std::vector<std::string> s;
    return s;
}

bool is_alnum(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// The end of the run of `in` from `from` whose characters pass `pred`.
template <class Pred>
std::size_t run_end(std::string_view in, std::size_t from, Pred pred) {
    while (from < in.size() && pred(in[from])) {
        ++from;
    }
    return from;
}

// A secret-looking match starting at `at`: the characters kept before "***" and its end.
struct Match {
    std::size_t keep = 0;
    std::size_t end = 0;
};

// At `at`: hf_ and 8+ letters or digits (a Hugging Face token), NAME= and a value where NAME
// starts with TOKEN, SECRET, PASSWORD or API_KEY then [A-Z_]*, or "Bearer " and a token.
std::optional<Match> secret_at(std::string_view in, std::size_t at) {
    std::string_view rest = in.substr(at);
    if (rest.starts_with("hf_")) {
        std::size_t end = run_end(in, at + 3, is_alnum);
        return end - at >= 11 ? std::optional(Match{0, end}) : std::nullopt;
    }
    for (std::string_view word : {"TOKEN", "SECRET", "PASSWORD", "API_KEY"}) {
        if (!rest.starts_with(word)) {
            continue;
        }
        std::size_t eq = run_end(
            in, at + word.size(), [](char c) { return (c >= 'A' && c <= 'Z') || c == '_'; });
        if (eq == in.size() || in[eq] != '=') {
            return std::nullopt;
        }
        std::size_t end = run_end(in, eq + 1, [](char c) {
            return std::string_view(" \t\n\v\f\r'\"").find(c) == std::string_view::npos;
        });
        return end > eq + 1 ? std::optional(Match{eq + 1 - at, end}) : std::nullopt;
    }
    if (rest.starts_with("Bearer ")) {
        std::size_t end = run_end(in, at + 7, [](char c) {
            return is_alnum(c) || std::string_view("._~+/=-").find(c) != std::string_view::npos;
        });
        return end > at + 7 ? std::optional(Match{7, end}) : std::nullopt;
    }
    return std::nullopt;
}

// Every secret-looking match replaced, left to right. Scanned by hand: std::regex recursed
// once per character and overflowed the stack on a ~100 KB token or value.
std::string redact_patterns(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t at = 0; at < in.size();) {
        if (auto m = secret_at(in, at)) {
            out.append(in.substr(at, m->keep)).append("***");
            at = m->end;
        } else {
            out += in[at++];
        }
    }
    return out;
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
    if (out.find("hf_") == std::string::npos && out.find('=') == std::string::npos &&
        out.find("Bearer") == std::string::npos) {
        return out;
    }
    return redact_patterns(out);
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
