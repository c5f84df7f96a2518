#include "model/model_log.hpp"

#include <algorithm>
#include <regex>

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

// The last tqdm counter `k/N [` of a line that may hold several bar redraws ('\r'-separated).
std::optional<std::pair<int, int>> last_tqdm_count(const std::string& line) {
    static const std::regex k_count(R"((\d+)/(\d+) \[)");
    std::optional<std::pair<int, int>> last;
    for (auto it = std::sregex_iterator(line.begin(), line.end(), k_count);
         it != std::sregex_iterator();
         ++it) {
        last = std::pair{std::stoi((*it)[1].str()), std::stoi((*it)[2].str())};
    }
    return last;
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
    // The last line of a Python traceback: "SomeError: message".
    static const std::regex k_exception(R"(^([A-Za-z_][A-Za-z0-9_.]*(Error|Exception)): (.*)$)");
    std::smatch match;
    if (l.level.empty() && std::regex_match(m, match, k_exception)) {
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
