#include "cli/output.hpp"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <unistd.h>

#include <fmt/format.h>

#include "cli/terminal_safe.hpp"
#include "core/redact.hpp"

namespace cosmos::cli {

Output Output::detect(bool json, bool quiet) {
    Output o;
    o.json = json;
    o.quiet = quiet;
    const char* term = std::getenv("TERM");
    bool dumb = term == nullptr || std::strcmp(term, "dumb") == 0;
    bool ci = std::getenv("CI") != nullptr;
    bool no_color = std::getenv("NO_COLOR") != nullptr;
    o.fancy = isatty(STDERR_FILENO) == 1 && !dumb && !ci && !no_color;
    return o;
}

void Output::print_json(const nlohmann::ordered_json& j) const {
    std::cout << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
    std::cout.flush();
}

namespace {

// Length of the SGR sequence (ESC [ digits and ';' m: colour, bold) at `i`, else 0.
std::size_t sgr_length(std::string_view text, std::size_t i) {
    if (i + 2 >= text.size() || text[i + 1] != '[') {
        return 0;
    }
    std::size_t j = i + 2;
    while (j < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[j])) != 0 || text[j] == ';')) {
        ++j;
    }
    return j < text.size() && text[j] == 'm' ? j - i + 1 : 0;
}

}  // namespace

std::string terminal_safe(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        auto u = static_cast<unsigned char>(text[i]);
        if (u == 0x1b) {
            if (std::size_t n = sgr_length(text, i); n > 0) {
                out.append(text.substr(i, n));
                i += n - 1;
                continue;
            }
        }
        if ((u < 0x20 && u != '\n' && u != '\t') || u == 0x7f) {
            out += fmt::format("\\x{:02x}", u);
        } else if (u == 0xc2 && i + 1 < text.size() &&
                   static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                   static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
            out += fmt::format("\\u{:04x}", static_cast<unsigned char>(text[i + 1]));
            ++i;
        } else {
            out += text[i];
        }
    }
    return out;
}

void Output::print_line(std::string_view line) const {
    std::cout << terminal_safe(line) << '\n';
    std::cout.flush();
}

void Output::note(std::string_view line) const {
    if (!quiet) {
        std::cerr << terminal_safe(core::redact(line)) << '\n';
    }
}

int Output::report_error(const core::Error& e) const {
    std::string message = core::redact(e.message);
    std::string hint = core::redact(e.hint);
    std::cerr << style("cosmos:", "1;31") << ' ' << terminal_safe(message) << '\n';
    if (!hint.empty()) {
        std::cerr << style("hint:", "1") << ' ' << terminal_safe(hint) << '\n';
    }
    if (json) {
        nlohmann::ordered_json j;
        j["error"] = {{"code", std::string(core::error_code_name(e.code))},
                      {"message", message},
                      {"hint", hint}};
        print_json(j);
    }
    return core::exit_code_for(e.code);
}

std::string Output::style(std::string_view text, std::string_view sgr) const {
    if (!fancy) {
        return std::string(text);
    }
    return fmt::format("\033[{}m{}\033[0m", sgr, text);
}

std::string ellipsize(std::string_view text, std::size_t width) {
    std::string flat;
    for (char c : text) {
        flat += (c == '\n' || c == '\t' || c == '\r') ? ' ' : c;
    }
    // Count UTF-8 code points, not bytes.
    std::size_t chars = 0;
    std::size_t cut = flat.size();
    for (std::size_t i = 0; i < flat.size(); ++i) {
        if ((static_cast<unsigned char>(flat[i]) & 0xC0) != 0x80) {
            if (chars == width - 1) {
                cut = i;
            }
            ++chars;
        }
    }
    if (chars <= width) {
        return flat;
    }
    return flat.substr(0, cut) + "…";
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
    if (rows.empty()) {
        return;
    }
    std::vector<std::size_t> widths(rows.front().size(), 0);
    auto display_len = [](const std::string& s) {
        std::size_t n = 0;
        for (char c : s) {
            n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
        }
        return n;
    };
    for (const auto& r : rows) {
        for (std::size_t i = 0; i < r.size() && i < widths.size(); ++i) {
            widths[i] = std::max(widths[i], display_len(r[i]));
        }
    }
    for (const auto& r : rows) {
        std::string line;
        for (std::size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) {
                line += std::string(widths[i] - display_len(r[i]) + 2, ' ');
            }
        }
        while (!line.empty() && line.back() == ' ') {
            line.pop_back();
        }
        std::cout << terminal_safe(line) << '\n';
    }
    std::cout.flush();
}

}  // namespace cosmos::cli
