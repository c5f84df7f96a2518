#pragma once
// Reads a model's log as it streams: progress (chunks completed, counted against the expected
// chunks), the saved outputs, a guardrail block, and the line that best explains a failure.
// Cosmos-Transfer1 prints one `Completed diffusion sampling` line per 121-frame chunk and
// `Saved video to PATH`; Cosmos-Transfer2.5 draws one tqdm bar `Generating samples: ... k/N`
// per chunk (a chunk is done when k = N) and prints `Generated video saved to PATH`. Both use
// loguru's line format and print `Guardrail blocked ...` when the guardrail stops a prompt.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cosmos::model {

// The frames a run's progress is counted against when its prompt's video length is unknown (a
// prompt deleted meanwhile): one chunk.
inline constexpr std::int64_t k_default_frames = 121;

// Returns the chunks the model generates for `frames` input frames: ceil((T-1)/120) with T
// capped at 5000, and at least 1 (inputs of <= 121 frames cost one chunk).
int expected_chunks(std::int64_t frames);

struct LogLine {
    std::string level;    // INFO, WARNING, ERROR, CRITICAL; empty for non-log lines
    std::string message;  // the text after the `[...]` prefix, or the whole line
};

// Splits `[MM-DD HH:mm:ss|LEVEL|file:line:func] message` into level and message.
LogLine parse_log_line(std::string_view line);

// Whose log it is.
enum class LogDialect { transfer1, transfer2_5 };

class ProgressTracker {
public:
    explicit ProgressTracker(int expected_chunks, LogDialect dialect = LogDialect::transfer1)
        : m_expected(expected_chunks < 1 ? 1 : expected_chunks), m_dialect(dialect) {}

    // Feeds one line of output; returns true when progress or an outcome changed.
    bool feed(std::string_view line);

    // Fraction 0..1 of chunks completed (1 only once a video is saved).
    double fraction() const;
    int completed_chunks() const { return m_completed; }
    int expected() const { return m_expected; }
    std::string phase() const;  // starting, loading, sampling, saving, done
    const std::optional<std::string>& saved_video() const { return m_saved_video; }
    bool guardrail_blocked() const { return m_blocked; }
    // The line that best summarises a failure (CUDA OOM, the last exception line), if any.
    const std::optional<std::string>& error_line() const { return m_error; }

private:
    bool feed_progress(const std::string& message);

    int m_expected;
    LogDialect m_dialect;
    int m_completed = 0;
    bool m_loading = false;
    bool m_blocked = false;
    std::optional<std::string> m_saved_video;
    std::optional<std::string> m_error;
};

}  // namespace cosmos::model
