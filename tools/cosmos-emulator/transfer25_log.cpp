#include "transfer25_log.hpp"

#include <cstdlib>
#include <ctime>
#include <string>

namespace cosmos::emulator {

namespace {

// COSMOS_VERBOSE as the real flags module reads it: true, 1, yes or y (any case).
bool verbose_from_env() {
    const char* v = std::getenv("COSMOS_VERBOSE");
    if (v == nullptr) {
        return false;
    }
    std::string s = v;
    for (char& c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s == "true" || s == "1" || s == "yes" || s == "y";
}

}  // namespace

Log25::Log25() : m_verbose(verbose_from_env()) {}

void Log25::open_files(const std::filesystem::path& output_dir) {
    m_console.open(output_dir / "console.log", std::ios::trunc);
    m_debug.open(output_dir / "debug.log", std::ios::trunc);
}

void Log25::line(Level level, const LogSite& site, std::string_view message) {
    std::string text =
        format_log_line_at(
            level, site.file, site.line, site.function, message, std::time(nullptr)) +
        "\n";
    const bool console = site.file.find("/_src/") == std::string_view::npos;
    if (console || m_verbose) {
        print_stdout(text);
    }
    if (console && m_console.is_open()) {
        m_console << text << std::flush;
    }
    if (m_debug.is_open()) {
        m_debug << text << std::flush;
    }
}

}  // namespace cosmos::emulator
