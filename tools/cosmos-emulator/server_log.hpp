#pragma once
// The servers' console output: vLLM's logger lines on stdout ("INFO 06-12 10:00:00
// [api_server.py:1885] text") and uvicorn's on stderr ("INFO:     text"), flushed at once.

#include <string_view>

namespace cosmos::emulator {

// "INFO", "WARNING" or "ERROR" `level`; `where` is "file.py:LINE".
void server_log(std::string_view level, std::string_view where, std::string_view message);

// uvicorn's "INFO:     message" (the level padded to 9 columns) on stderr.
void uvicorn_log(std::string_view level, std::string_view message);

}  // namespace cosmos::emulator
