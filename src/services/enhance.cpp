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
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;
namespace fs = std::filesystem;

namespace {

std::optional<std::string> video_of(const store::PromptRecord& p) {
    if (p.input_video) {
        return p.input_video;
    }
    if (!p.controls.empty()) {
        return p.controls.begin()->second;
    }
    return std::nullopt;
}

std::string source_of(const std::string& run_id) {
    return "enhance:" + run_id;
}

}  // namespace

core::Result<store::RunRecord> create_enhance_run(const App& app,
                                                  const std::string& prompt_id,
                                                  bool offload) {
    COSMOS_TRY(auto prompt, store::get_prompt(app.db, prompt_id));
    if (!prompt) {
        return fail(ErrorCode::not_found, fmt::format("no prompt {}", prompt_id));
    }
    if (!video_of(*prompt)) {
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
    if (auto s = store::insert_run(app.db, run); !s) {
        return fail(s.error());
    }
    return run;
}

core::Result<nlohmann::ordered_json> enhance_spec(const App& app,
                                                  const store::PromptRecord& prompt,
                                                  const store::RunRecord& run) {
    auto source = video_of(prompt);
    if (!source) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("prompt {} has no video to show the prompt upsampler", prompt.id));
    }
    fs::path clip = app.run_dir(run.id) / "inputs" / "upsampler_input.mp4";
    std::error_code ec;
    if (!fs::is_regular_file(clip, ec)) {
        fs::create_directories(clip.parent_path(), ec);
        auto size = model::upsampler_frame_size(prompt.video.width, prompt.video.height);
        media::ClipOptions options;
        options.width = size.width;
        options.height = size.height;
        options.max_frames = 2;
        COSMOS_TRY(auto frames, media::write_scaled_clip(*source, clip, options));
        (void)frames;
    }
    bool offload =
        std::find(run.params.offload.begin(), run.params.offload.end(), "prompt_upsampler") !=
        run.params.offload.end();
    return nlohmann::ordered_json{{"prompt", prompt.prompt},
                                  {"input_video", clip.string()},
                                  {"offload_prompt_upsampler", offload}};
}

core::Result<store::PromptRecord> adopt_enhanced_prompt(const App& app,
                                                        const store::RunRecord& run) {
    COSMOS_TRY(auto existing, enhanced_prompt_of(app, run.id));
    if (existing) {
        return *existing;
    }
    COSMOS_TRY(auto parent, store::get_prompt(app.db, run.prompt_id));
    if (!parent) {
        return fail(ErrorCode::not_found,
                    fmt::format("run {}: prompt {} is gone", run.id, run.prompt_id));
    }
    std::ifstream in(app.run_dir(run.id) / "run.log", std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto upsampled = model::parse_upsampled_prompt(text.str());
    if (!upsampled) {
        return fail(
            ErrorCode::remote_failed,
            fmt::format("the prompt upsampler printed no upsampled prompt (run {})", run.id));
    }
    store::PromptRecord p = *parent;
    p.id = core::new_id(core::IdKind::prompt);
    p.prompt = *upsampled;
    std::string base = parent->name.size() > 40 ? parent->name.substr(0, 40) : parent->name;
    p.name = core::sanitize_name(base + "_enhanced");
    p.parent_id = parent->id;
    p.template_name.reset();
    p.source = source_of(run.id);
    p.created_at = core::now_iso();
    if (auto s = store::insert_prompt(app.db, p); !s) {
        return fail(s.error());
    }
    return p;
}

core::Result<std::optional<store::PromptRecord>> enhanced_prompt_of(const App& app,
                                                                    const std::string& run_id) {
    return store::find_prompt_by_source(app.db, source_of(run_id));
}

}  // namespace cosmos::services
