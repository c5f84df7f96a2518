#include "model/model_log.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>
#include <utility>

namespace cosmos::model {

int expected_chunks(std::int64_t frames) {
    std::int64_t t = std::min<std::int64_t>(frames, 5000);
    if (t <= 121) {
        return 1;
    }
    return static_cast<int>((t - 1 + 119) / 120);
}

LogLine parse_log_line(std::string_view line) {
    // [11-25 05:12:53|INFO|cosmos_transfer1/diffusion/inference/transfer.py:123:demo] text
    // The prefix is searched anywhere: a tqdm bar written to stderr without a newline can precede
    // it on the same line when both streams share one pipe.
    for (auto open = line.find('['); open != std::string_view::npos;
         open = line.find('[', open + 1)) {
        std::string_view rest = line.substr(open);
        auto close = rest.find("] ");
        auto bar1 = rest.find('|');
        if (close == std::string_view::npos || bar1 == std::string_view::npos || bar1 > close ||
            bar1 != 15) {  // "[MM-DD HH:MM:SS|" is 15 characters before the bar
            continue;
        }
        auto bar2 = rest.find('|', bar1 + 1);
        if (bar2 != std::string_view::npos && bar2 < close) {
            return LogLine{std::string(rest.substr(bar1 + 1, bar2 - bar1 - 1)),
                           std::string(rest.substr(close + 2))};
        }
    }
    return LogLine{"", std::string(line)};
}

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// The int of `digits`; nullopt when it is too large for one.
std::optional<int> to_int(std::string_view digits) {
    int v = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    return ec == std::errc() && end == digits.data() + digits.size() ? std::optional(v)
                                                                     : std::nullopt;
}

// The last tqdm counter `k/N [` of a line that may hold several bar redraws ('\r'-separated).
// Scanned by hand: std::regex recurses per character and overflowed the stack on a line of
// ~30 KB; a counter too large for an int is no bar of ours (stoi threw out of the watcher).
std::optional<std::pair<int, int>> last_tqdm_count(std::string_view line) {
    std::optional<std::pair<int, int>> last;
    for (auto slash = line.find('/'); slash != std::string_view::npos;
         slash = line.find('/', slash + 1)) {
        std::size_t begin = slash;
        while (begin > 0 && is_digit(line[begin - 1])) {
            --begin;
        }
        std::size_t end = slash + 1;
        while (end < line.size() && is_digit(line[end])) {
            ++end;
        }
        if (begin == slash || end == slash + 1 || line.substr(end, 2) != " [") {
            continue;
        }
        auto k = to_int(line.substr(begin, slash - begin));
        auto n = to_int(line.substr(slash + 1, end - slash - 1));
        if (k && n) {
            last = std::pair{*k, *n};
        }
    }
    return last;
}

// The last line of a Python traceback: "SomeError: message" (a dotted name ending in Error or
// Exception after at least one character, ": ", then the rest of the line).
bool is_exception_line(std::string_view m) {
    auto colon = m.find(": ");
    if (colon == std::string_view::npos) {
        return false;
    }
    std::string_view name = m.substr(0, colon);
    auto word = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
    if (name.empty() || !word(name.front())) {
        return false;
    }
    for (char c : name) {
        if (!word(c) && !is_digit(c) && c != '.') {
            return false;
        }
    }
    bool named = (name.size() > 5 && name.ends_with("Error")) ||
                 (name.size() > 9 && name.ends_with("Exception"));
    return named && m.find_first_of("\r\n", colon) == std::string_view::npos;
}

}  // namespace

// Chunk completions and the saved video, in the dialect's words.
bool ProgressTracker::feed_progress(const std::string& m) {
    if (m_dialect == LogDialect::transfer1) {
        if (m.find("Completed diffusion sampling") != std::string::npos) {
            m_completed = std::min(m_completed + 1, m_expected);
            return true;
        }
        if (m.rfind("Saved video to ", 0) == 0) {
            m_saved_video = m.substr(15);
            return true;
        }
        return false;
    }
    if (m.find("Generating samples") != std::string::npos) {
        auto count = last_tqdm_count(m);
        if (count && count->second > 0 && count->first == count->second) {
            m_completed = std::min(m_completed + 1, m_expected);
            return true;
        }
        return false;
    }
    if (auto at = m.find("Generated video saved to "); at != std::string::npos) {
        m_saved_video = m.substr(at + 25);
        return true;
    }
    return false;
}

bool ProgressTracker::feed(std::string_view raw) {
    LogLine l = parse_log_line(raw);
    const std::string& m = l.message;
    if (feed_progress(m)) {
        return true;
    }
    if (m.find("Guardrail blocked") != std::string::npos) {
        m_blocked = true;
        m_error = "the safety guardrail blocked this prompt";
        return true;
    }
    if (!m_loading && (m.find("oading") != std::string::npos)) {
        m_loading = true;
        return true;
    }
    if (m.find("CUDA out of memory") != std::string::npos) {
        m_error =
            "CUDA out of memory (the GPU needs about 28 GB or more; try offload flags "
            "or more GPUs)";
        return true;
    }
    if (l.level.empty() && is_exception_line(m)) {
        // torchrun's ChildFailedError only wraps the worker's failure: keep the worker's own
        // exception line (the root cause) when there is one, and never replace a CUDA OOM.
        bool wrapper = m.find("ChildFailedError") != std::string::npos;
        bool have_cause = m_error && (m_error->find("CUDA out of memory") != std::string::npos ||
                                      m_error->find("ChildFailedError") == std::string::npos);
        if (!(wrapper && have_cause) &&
            !(m_error && m_error->find("CUDA out of memory") != std::string::npos)) {
            m_error = m;
        }
        return true;
    }
    return false;
}

double ProgressTracker::fraction() const {
    if (m_saved_video) {
        return 1.0;
    }
    double f = static_cast<double>(m_completed) / m_expected;
    return std::min(f, 0.99);
}

std::string ProgressTracker::phase() const {
    if (m_saved_video) {
        return "done";
    }
    if (m_completed >= m_expected) {
        return "saving";
    }
    if (m_completed > 0) {
        return "sampling";
    }
    return m_loading ? "loading" : "starting";
}

}  // namespace cosmos::model
