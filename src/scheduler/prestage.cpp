// Uploading queued runs' inputs ahead of their claim (see prestage.hpp).

#include "scheduler/prestage.hpp"

#include <set>

#include "scheduler/job.hpp"
#include "scheduler/run_spec.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"
#include "transport/staging.hpp"

namespace cosmos::scheduler {

namespace fs = std::filesystem;

core::Result<PrestageResult> prestage_runs(const App& app,
                                           const config::HostConfig& host_config,
                                           const std::vector<std::string>& run_ids) {
    std::vector<fs::path> files;
    for (const auto& id : run_ids) {
        COSMOS_TRY(auto run, store::get_run(app.db, id));
        if (!run || run->kind == core::RunKind::upscale) {
            continue;  // an upscale's input is its parent's output, not made yet
        }
        COSMOS_TRY(auto prompt, store::get_prompt(app.db, run->prompt_id));
        if (!prompt) {
            continue;
        }
        auto spec = run_spec(app, *prompt, *run);
        if (spec) {
            spec_inputs(*spec, files);
        }
    }
    PrestageResult result;
    if (files.empty()) {
        return result;
    }
    COSMOS_TRY(auto host, open_host(host_config));
    if (auto s = host.shell->make_dirs(host.cache_dir()); !s) {
        return core::fail(s.error());
    }
    for (const auto& f : files) {
        COSMOS_TRY(auto staged, transport::stage_file(*host.shell, f, host.cache_dir()));
        result.uploaded_bytes += staged.uploaded_bytes;
        ++result.files;
    }
    return result;
}

}  // namespace cosmos::scheduler
