#include "log.hpp"

#include <cmath>
#include <cstdio>
#include <functional>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace cosmos::emulator {

namespace {

constexpr std::string_view k_script = "cosmos_transfer1/diffusion/inference/transfer.py";
constexpr int k_bar_width = 10;

std::string_view level_name(Level level) {
    switch (level) {
        case Level::info:
            return "INFO";
        case Level::warning:
            return "WARNING";
        case Level::critical:
            return "CRITICAL";
        case Level::success:
            return "SUCCESS";
    }
    return "INFO";
}

// tqdm's format_interval: MM:SS, or H:MM:SS from an hour on.
std::string format_interval(double seconds) {
    auto total = static_cast<long>(std::lround(seconds));
    long h = total / 3600, m = (total / 60) % 60, s = total % 60;
    if (h > 0) {
        return fmt::format("{:d}:{:02d}:{:02d}", h, m, s);
    }
    return fmt::format("{:02d}:{:02d}", m, s);
}

std::string format_bar(int n, int total) {
    static constexpr std::string_view k_parts[] = {" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    double frac = total > 0 ? static_cast<double>(n) / total : 0;
    int eighths = static_cast<int>(frac * k_bar_width * 8);
    int full = eighths / 8;
    std::string bar;
    for (int i = 0; i < full; ++i) {
        bar += "█";
    }
    int width = full;
    if (full < k_bar_width) {
        bar += k_parts[eighths % 8];
        ++width;
    }
    bar.append(static_cast<std::size_t>(k_bar_width - width), ' ');
    return bar;
}

std::string format_rate(int n, double elapsed_s) {
    if (n <= 0 || elapsed_s <= 0) {
        return "?it/s";
    }
    double rate = n / elapsed_s;
    if (rate < 1) {
        return fmt::format("{:5.2f}s/it", 1 / rate);
    }
    return fmt::format("{:5.2f}it/s", rate);
}

}  // namespace

std::string format_log_line_at(Level level,
                               std::string_view file,
                               int line,
                               std::string_view function,
                               std::string_view message,
                               std::time_t now) {
    std::tm local{};
    localtime_r(&now, &local);
    return fmt::format("[{:%m-%d %H:%M:%S}|{}|{}:{}:{}] {}",
                       local,
                       level_name(level),
                       file,
                       line,
                       function,
                       message);
}

std::string format_log_line(Level level, int line, std::string_view message, std::time_t now) {
    return format_log_line_at(level, k_script, line, "demo", message, now);
}

void log_line(Level level, int line, std::string_view message) {
    print_stdout(format_log_line(level, line, message, std::time(nullptr)) + "\n");
}

std::string format_tqdm(int n, int total, double elapsed_s) {
    double pct = total > 0 ? 100.0 * n / total : 0;
    std::string remaining = "?";
    if (n > 0 && elapsed_s > 0) {
        remaining = format_interval(elapsed_s / n * (total - n));
    }
    return fmt::format("{:3.0f}%|{}| {}/{} [{}<{}, {}]",
                       pct,
                       format_bar(n, total),
                       n,
                       total,
                       format_interval(elapsed_s),
                       remaining,
                       format_rate(n, elapsed_s));
}

ProgressBar::ProgressBar(int total, std::string desc)
    : m_total(total), m_desc(std::move(desc)), m_start(std::chrono::steady_clock::now()) {
    draw();
}

void ProgressBar::update() {
    ++m_done;
    draw();
}

void ProgressBar::close() {
    if (!m_closed) {
        m_closed = true;
        print_stderr("\n");
    }
}

ProgressBar::~ProgressBar() {
    close();
}

void ProgressBar::draw() {
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - m_start;
    std::string lead = m_desc.empty() ? "" : m_desc + ": ";
    print_stderr("\r" + lead + format_tqdm(m_done, m_total, elapsed.count()));
}

void print_traceback(std::string_view script_path,
                     std::string_view where,
                     std::string_view exception_line) {
    std::string text = "Traceback (most recent call last):\n";
    if (where == "<module>") {
        text += fmt::format("  File \"{}\", line 29, in <module>\n", script_path);
        text += "    from cosmos_transfer1.checkpoints import BASE_7B_CHECKPOINT_AV_SAMPLE_PATH\n";
        print_stderr(text + std::string(exception_line) + "\n");
        return;
    }
    std::string caller = "<module>";
    int line = 431;
    std::string_view rest = where.empty() ? std::string_view("demo") : where;
    while (!rest.empty()) {
        std::size_t cut = rest.find('>');
        std::string_view callee = rest.substr(0, cut);
        text += fmt::format(
            "  File \"{}\", line {}, in {}\n    {}(...)\n", script_path, line, caller, callee);
        caller = std::string(callee);
        line = 100 + static_cast<int>(std::hash<std::string_view>{}(callee) % 300);
        rest = cut == std::string_view::npos ? std::string_view() : rest.substr(cut + 1);
    }
    std::string_view type = exception_line.substr(0, exception_line.find(':'));
    text += fmt::format(
        "  File \"{}\", line {}, in {}\n    raise {}(...)\n", script_path, line, caller, type);
    text += std::string(exception_line) + "\n";
    print_stderr(text);
}

void print_stderr(std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
}

void print_stdout(std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
}

std::string py_repr(std::string_view text) {
    char quote =
        text.find('\'') != std::string_view::npos && text.find('"') == std::string_view::npos
            ? '"'
            : '\'';
    std::string out(1, quote);
    for (char c : text) {
        if (c == '\\' || c == quote) {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else {
            out += c;
        }
    }
    out += quote;
    return out;
}

}  // namespace cosmos::emulator
