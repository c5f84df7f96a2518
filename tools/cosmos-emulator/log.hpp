#pragma once
// Output of the emulated transfer.py: loguru-style log lines on stdout, a tqdm bar on stderr,
// Python tracebacks on stderr. Every write is flushed at once, as the model's output is
// followed live by the orchestrator.

#include <chrono>
#include <ctime>
#include <string>
#include <string_view>

namespace cosmos::emulator {

enum class Level { info, warning, critical, success };

// Returns "[MM-DD HH:MM:SS|LEVEL|cosmos_transfer1/diffusion/inference/transfer.py:LINE:demo] "
// followed by `message` (no newline), with `now` in local time.
std::string format_log_line(Level level, int line, std::string_view message, std::time_t now);

// Returns "[MM-DD HH:MM:SS|LEVEL|FILE:LINE:FUNCTION] " followed by `message`: loguru's line as
// both models print it, at any source location.
std::string format_log_line_at(Level level,
                               std::string_view file,
                               int line,
                               std::string_view function,
                               std::string_view message,
                               std::time_t now);

// Prints format_log_line(...) for the current time and a newline on stdout, flushed.
void log_line(Level level, int line, std::string_view message);

// Returns tqdm's text for `n` of `total` after `elapsed_s` seconds, e.g.
// " 50%|█████     | 1/2 [00:05<00:05,  5.00s/it]"; `elapsed_s` 0 gives "?it/s" rates.
std::string format_tqdm(int n, int total, double elapsed_s);

// A tqdm bar over `total` items on stderr: each update rewrites the line after '\r', close()
// ends it with a newline (as tqdm does when stderr is not a terminal).
class ProgressBar {
public:
    // `desc` (empty: none) leads the line as tqdm's desc does: "Generating samples: 50%|...".
    explicit ProgressBar(int total, std::string desc = "");
    // Marks one more item done and redraws.
    void update();
    // Ends the bar's line; idempotent.
    void close();
    ~ProgressBar();

private:
    void draw();
    int m_total;
    std::string m_desc;
    int m_done = 0;
    bool m_closed = false;
    std::chrono::steady_clock::time_point m_start;
};

// Prints a Python traceback on stderr for an exception raised at the end of `where`, the call
// chain from the script's top level ("parse_arguments>load_controlnet_specs"; empty: "demo";
// "<module>": an import at the top),
// in the script at `script_path`, ending with `exception_line` ("ValueError: ...").
void print_traceback(std::string_view script_path,
                     std::string_view where,
                     std::string_view exception_line);

// Writes `text` (already newline-terminated where needed) to stderr, flushed.
void print_stderr(std::string_view text);

// Writes `text` to stdout, flushed.
void print_stdout(std::string_view text);

// Returns Python's repr() of a str: single quotes unless the text holds ' but no ".
std::string py_repr(std::string_view text);

}  // namespace cosmos::emulator
