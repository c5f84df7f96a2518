#include "cli/output.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <unistd.h>

#include <fmt/format.h>

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

void Output::print_line(std::string_view line) const {
    std::cout << line << '\n';
    std::cout.flush();
}

void Output::note(std::string_view line) const {
    if (!quiet) {
        std::cerr << core::redact(line) << '\n';
    }
}

int Output::report_error(const core::Error& e) const {
    std::string message = core::redact(e.message);
    std::string hint = core::redact(e.hint);
    std::cerr << style("cosmos:", "1;31") << ' ' << message << '\n';
    if (!hint.empty()) {
        std::cerr << style("hint:", "1") << ' ' << hint << '\n';
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
        std::cout << line << '\n';
    }
    std::cout.flush();
}

}  // namespace cosmos::cli
