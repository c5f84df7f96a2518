#pragma once
// The server modes' record (COSMOS_EMULATOR_RECORD): one JSON line per event (model_load,
// request, video_job, chat), each appended with a single write() so lines from threads and
// processes never interleave. Never given the API key.

#include <string>

#include <nlohmann/json.hpp>

namespace cosmos::emulator {

class EventLog {
public:
    // `path` empty: records nothing. `mode` ("vllm" / "sglang") leads every line.
    EventLog(std::string path, std::string mode);

    // Appends {"mode", "event", "pid", ...fields}.
    void write(std::string_view event, const nlohmann::ordered_json& fields) const;

private:
    std::string m_path;
    std::string m_mode;
};

}  // namespace cosmos::emulator
