#pragma once
// How the CLI speaks: results on stdout (text or --json), diagnostics and progress on stderr,
// colour and progress bars only on a TTY with TERM != dumb, no CI and no NO_COLOR.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace cosmos::cli {

struct Output {
    bool json = false;   // --json
    bool quiet = false;  // --quiet: no progress or log lines on stderr
    bool fancy = false;  // stderr is an interactive terminal: progress bars, colour

    // Detects `fancy` from the environment and stderr.
    static Output detect(bool json, bool quiet);

    // Prints a JSON value on stdout (pretty) followed by a newline.
    void print_json(const nlohmann::ordered_json& j) const;
    // Prints one line on stdout.
    void print_line(std::string_view line) const;
    // Prints a diagnostic line on stderr (suppressed by --quiet).
    void note(std::string_view line) const;
    // Prints the error: `cosmos: <message>` and `hint: ...` on stderr, and with --json an error
    // object on stdout. Returns the documented exit code.
    int report_error(const core::Error& e) const;
    // Wraps `text` in an ANSI style when fancy (e.g. "1" bold, "2" dim, "31" red, "32" green).
    std::string style(std::string_view text, std::string_view sgr) const;
};

// Prints rows as aligned columns on stdout; the first row is the header.
void print_table(const std::vector<std::vector<std::string>>& rows);

// Shortens `text` to `width` display characters with an ellipsis.
std::string ellipsize(std::string_view text, std::size_t width);

}  // namespace cosmos::cli
