#pragma once
// What the operation above the engine checks before a job starts on a host, handed to the job
// runner (services/execute_run: the emulator's install on the embedded host, the supply chain of
// docs/supply-chain.md). The engine calls it at the right moment and knows nothing of what it
// checks.

#include <functional>

#include "config/config.hpp"
#include "core/result.hpp"
#include "store/records.hpp"

namespace cosmos::scheduler {

struct Preflight {
    // Before anything else; a failure changes nothing (the runs stay as they were).
    std::function<core::Status(const config::HostConfig& host)> host;
    // Once the job's runs are loaded, before staging; it may add to the host's environment (a
    // secret travels so). A failure ends the job's runs with its error.
    std::function<core::Status(const store::RunRecord& first, config::HostConfig& host)> runs;
};

}  // namespace cosmos::scheduler
