#pragma once
// Pipelining the queue's input side: uploads the input files of queued runs into a host's
// content-addressed cache (<work_dir>/cache, transport/staging) while the host's GPUs are busy
// with earlier runs, so that when a run is claimed its staging only links cached files into
// its job dir. A guess about the host costs nothing but bandwidth: staging is idempotent, and
// a run that lands elsewhere is staged there as usual.

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "scheduler/app.hpp"

namespace cosmos::scheduler {

struct PrestageResult {
    int files = 0;                     // files now in the host's cache
    std::uint64_t uploaded_bytes = 0;  // of which sent now
};

// Stages the inputs of runs `run_ids` (their spec's files) into `host`'s cache. Runs whose
// spec cannot be built are skipped (they fail on their own when claimed). Fails with the
// transport's error when the host cannot be reached.
core::Result<PrestageResult> prestage_runs(const App& app,
                                           const config::HostConfig& host,
                                           const std::vector<std::string>& run_ids);

}  // namespace cosmos::scheduler
