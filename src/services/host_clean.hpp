#pragma once
// `cosmos hosts clean`: frees a GPU host's disk of what finished runs left there. Every run
// leaves a job dir (spec, log, outputs: tens of MB per clip) under the host's work dir (the
// shared dir of a slurm host), and every staged input a file in its content-addressed cache;
// nothing removed them, so a busy host's disk filled up until runs failed.
//
// A job dir (jobs/<run or batch id>) is removed only when this database knows it, every run in
// it is finished (succeeded, failed or cancelled), every succeeded run's output video is home
// (the local file exists), and nothing in it changed for `older_than`. Anything else is kept
// and reported with the reason: a run still queued or running, an output that never came home
// (the host's copy may be the only one), a dir this database does not know (another
// orchestrator's, or a run deleted here), or a recent one. A cached input is removed when no
// job dir links it any more (hard-link count 1) and it is older than both `older_than` and 10
// minutes (so an upload in progress is never touched); a later run uploads it again. Slurm
// array scripts (arrays/) go by age alone.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "services/app.hpp"

namespace cosmos::services {

struct CleanOptions {
    std::chrono::seconds older_than = std::chrono::hours(24 * 7);
    bool dry_run = false;  // report what would go, remove nothing
};

struct CleanEntry {
    std::string path;  // on the host
    std::string kind;  // job | cache | array
    std::int64_t bytes = 0;
    std::string reason;  // why it was kept; empty for a removed entry
};

struct CleanReport {
    std::string host;
    bool dry_run = false;
    std::vector<CleanEntry> removed;  // or, with dry_run, what would be
    std::vector<CleanEntry> kept;     // job dirs only (a kept cache file is not news)
    std::int64_t bytes_removed = 0;
};

// "7d", "12h", "30m", "45s", "0" (seconds) → the age; invalid_input otherwise.
core::Result<std::chrono::seconds> parse_age(const std::string& text);

// Cleans `host` (an ssh or slurm host). Fails with invalid_input for the local host (its runs
// live in the data dir; `cosmos delete` removes them), host_unreachable / remote_failed when the
// host cannot be listed or a removal fails (job dirs are removed before cached inputs, in chunks
// of 200: what a failed chunk leaves is found again by the next clean).
core::Result<CleanReport> clean_host(const App& app,
                                     const config::HostConfig& host,
                                     const CleanOptions& options);

}  // namespace cosmos::services
