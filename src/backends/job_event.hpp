#pragma once
// Progress and outcomes of running work, as values: consumed alike by the CLI printer, the
// store updates in services, and (later) the web UI's Server-Sent Events.

#include <cstdint>
#include <functional>
#include <string>
#include <variant>

namespace cosmos::backends {

struct Launched {
    std::string run_id;
    std::string host;
};
struct LogLine {
    std::string run_id;
    std::string line;
};
struct Progress {
    std::string run_id;
    double fraction = 0;  // 0..1
    int chunk = 0;        // chunks completed
    int chunks = 1;       // chunks expected
    std::string phase;    // starting, loading, sampling, saving, done
};
// Bytes moving between this machine and the host (inputs up, outputs and log down).
struct Transfer {
    std::string run_id;
    std::string direction;  // upload | download
    std::string file;
    std::uint64_t done = 0;
    std::uint64_t total = 0;
};
struct Finished {
    std::string run_id;
    std::string output_video;
};
struct Failed {
    std::string run_id;
    std::string error;
};

using JobEvent = std::variant<Launched, LogLine, Progress, Transfer, Finished, Failed>;
using EventSink = std::function<void(const JobEvent&)>;

}  // namespace cosmos::backends
