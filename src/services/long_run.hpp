#pragma once
// A long video in `parallel` mode, end to end: the prompt's input set is cut into overlapping
// windows (services/long_video), each window becomes a child prompt (parent_id = the prompt)
// and a child run (parent_run_id = a parent run standing for the whole video), the children
// are executed, and their outputs are stitched with a cross-fade into the parent's output.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "services/app.hpp"
#include "services/create_run.hpp"
#include "services/execute_run.hpp"
#include "services/long_video.hpp"
#include "store/records.hpp"

namespace cosmos::services {

struct LongRunRequest {
    std::string prompt_id;
    RunOptions options;  // the same for every window (seed included)
    std::int64_t window = media::k_model_window;
    std::int64_t overlap = k_default_overlap;
    ExecuteOptions execute;  // host, cancel flag and event sink for every child run
};

struct LongRunResult {
    store::RunRecord parent;                 // final record; output_video = the stitched video
    std::vector<store::RunRecord> children;  // final records, in window order
    std::filesystem::path chunks_manifest;
};

// Creates the parent run, the window prompts and runs, executes the windows (one after another;
// on a slurm host up to its max_in_flight at once, which Slurm runs in parallel as one job
// array), then stitches them here, where their outputs came home. A failed window stops the
// others (they end cancelled). Fails (before creating anything) with not_found for an unknown
// prompt and invalid_input for bad window/overlap. A failed or cancelled window ends the parent
// failed/cancelled naming the window; the result is still returned (not an error).
core::Result<LongRunResult> run_parallel(const App& app, const LongRunRequest& req);

}  // namespace cosmos::services
