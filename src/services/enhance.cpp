#include "services/enhance.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/names.hpp"
#include "media/scaled_clip.hpp"
#include "model/enhance_command.hpp"
#include "model/family.hpp"
#include "scheduler/run_spec.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;
namespace fs = std::filesystem;

core::Result<store::RunRecord> plan_enhance_run(const App& app,
                                                const std::string& prompt_id,
                                                bool offload) {
    COSMOS_TRY(auto prompt, store::get_prompt(app.db, prompt_id));
    if (!prompt) {
        return fail(ErrorCode::not_found, fmt::format("no prompt {}", prompt_id));
    }
    if (!model::model_family(prompt->model).runs(core::RunKind::enhance)) {
        return fail(ErrorCode::conflict,
                    fmt::format("prompt {} is for {}, which has no prompt upsampler",
                                prompt_id,
                                model::model_family(prompt->model).display_name()),
                    "enhance prompts of Cosmos-Transfer1 (create the prompt with --model "
                    "transfer1)");
    }
    if (!scheduler::enhance_source_video(*prompt)) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("prompt {} has no video to show the prompt upsampler", prompt_id));
    }
    store::RunRecord run;
    run.id = core::new_id(core::IdKind::run);
    run.prompt_id = prompt->id;
    run.model = prompt->model;
    run.kind = core::RunKind::enhance;
    run.params.weights.clear();
    run.params.num_gpus = 1;
    run.params.offload.clear();
    if (offload) {
        run.params.offload.push_back("prompt_upsampler");
    }
    run.created_at = core::now_iso();
    run.updated_at = run.created_at;
    return run;
}

core::Result<store::RunRecord> create_enhance_run(const App& app,
                                                  const std::string& prompt_id,
                                                  bool offload) {
    COSMOS_TRY(auto run, plan_enhance_run(app, prompt_id, offload));
    if (auto s = store::insert_run(app.db, run); !s) {
        return fail(s.error());
    }
    return run;
}

}  // namespace cosmos::services
