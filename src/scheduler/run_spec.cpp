#include "scheduler/run_spec.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/names.hpp"
#include "core/read_file.hpp"
#include "media/scaled_clip.hpp"
#include "model/enhance_command.hpp"
#include "model/upscale_command.hpp"
#include "scheduler/job.hpp"
#include "store/prompt_store.hpp"
#include "store/queue_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::scheduler {

using core::ErrorCode;
using core::fail;
namespace fs = std::filesystem;

core::Result<nlohmann::ordered_json> local_spec(const store::PromptRecord& prompt,
                                                const store::RunRecord& run) {
    model::SpecInput in;
    in.prompt = prompt.prompt;
    in.negative_prompt = prompt.negative_prompt;
    in.input_video = prompt.input_video;
    in.controls = prompt.controls;
    in.masks = prompt.masks;
    in.params = run.params;
    in.width = prompt.video.width;
    in.height = prompt.video.height;
    in.frames = prompt.video.frames;
    return model::model_family(run.model).spec(in);
}

std::optional<std::string> enhance_source_video(const store::PromptRecord& p) {
    if (p.input_video) {
        return p.input_video;
    }
    if (!p.controls.empty()) {
        return p.controls.begin()->second;
    }
    return std::nullopt;
}

namespace {

std::string source_of(const std::string& run_id) {
    return "enhance:" + run_id;
}

}  // namespace

core::Result<nlohmann::ordered_json> enhance_spec(const App& app,
                                                  const store::PromptRecord& prompt,
                                                  const store::RunRecord& run,
                                                  SpecFiles files) {
    auto source = enhance_source_video(prompt);
    if (!source) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("prompt {} has no video to show the prompt upsampler", prompt.id));
    }
    fs::path clip = app.run_dir(run.id) / "inputs" / "upsampler_input.mp4";
    std::error_code ec;
    if (files == SpecFiles::write && !fs::is_regular_file(clip, ec)) {
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
    auto text = core::read_file(app.run_dir(run.id) / "run.log", core::kLogFileMax, "run log");
    if (!text && text.error().code != ErrorCode::not_found) {
        return fail(std::move(text).error());
    }
    auto upsampled = model::parse_upsampled_prompt(text ? *text : std::string());
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

core::Result<std::optional<ChainedUpscale>> chained_upscale(const App& app,
                                                            const store::RunRecord& run,
                                                            const config::HostConfig& host) {
    if (run.kind != core::RunKind::upscale || host.kind != core::HostKind::slurm ||
        !run.parent_run_id) {
        return std::optional<ChainedUpscale>();
    }
    COSMOS_TRY(auto parent, store::get_run(app.db, *run.parent_run_id));
    if (!parent || parent->status != store::RunStatus::running) {
        return std::optional<ChainedUpscale>();
    }
    // The parent's host and job dir follow from its claim (its batch's dir when it shares one,
    // else its own): the run row names its host only once it launched, and a parent still
    // staging is as chainable as one already running.
    COSMOS_TRY(auto job, store::job_for_run(app.db, parent->id));
    if (!job || job->state != store::JobState::running ||
        job->host.value_or(parent->host.value_or("")) != host.name) {
        return std::optional<ChainedUpscale>();
    }
    COSMOS_TRY(auto remote, open_host(host));
    const auto& family = model::model_family(parent->model);
    std::string job_dir = remote.job_dir(job->batch_id ? *job->batch_id : parent->id);
    std::string video =
        job_dir + "/outputs/" +
        family.output_video(job->batch_id ? job->batch_index.value_or(0) : std::optional<int>());
    auto it = run.params.weights.find("upscale");
    double weight = it == run.params.weights.end() ? model::k_default_upscale_weight : it->second;
    COSMOS_TRY(auto spec,
               model::build_upscale_run_spec(
                   model::UpscaleInput{video, weight, run.params.upscale_prompt}));
    return std::optional<ChainedUpscale>(ChainedUpscale{std::move(spec), job_dir});
}

core::Result<nlohmann::ordered_json> run_spec(const App& app,
                                              const store::PromptRecord& prompt,
                                              const store::RunRecord& run,
                                              SpecFiles files) {
    if (run.kind == core::RunKind::enhance) {
        return enhance_spec(app, prompt, run, files);
    }
    if (run.kind != core::RunKind::upscale) {
        return local_spec(prompt, run);
    }
    if (!run.parent_run_id) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("upscale run {} names no parent run", run.id));
    }
    COSMOS_TRY(auto parent, store::get_run(app.db, *run.parent_run_id));
    if (!parent) {
        return fail(
            ErrorCode::not_found,
            fmt::format("upscale run {}: its parent run {} is gone", run.id, *run.parent_run_id));
    }
    auto it = run.params.weights.find("upscale");
    double weight = it == run.params.weights.end() ? model::k_default_upscale_weight : it->second;
    bool unfinished =
        parent->status == store::RunStatus::queued || parent->status == store::RunStatus::running;
    if (files == SpecFiles::name_only && unfinished) {
        // A dry run of an upscale queued behind its run: the output is named, not there yet.
        return model::build_upscale_run_spec(model::UpscaleInput{
            fmt::format("<output of {}>", parent->id), weight, run.params.upscale_prompt});
    }
    if (parent->status != store::RunStatus::succeeded || !parent->output_video) {
        return fail(
            ErrorCode::conflict,
            fmt::format("upscale run {}: its parent run {} is {} and has no output video{}",
                        run.id,
                        parent->id,
                        store::to_string(parent->status),
                        parent->status == store::RunStatus::succeeded ? " any more" : " yet"),
            "an upscale runs after its transfer run succeeded; queue it behind that run "
            "(cosmos upscale RUN_ID --queue)");
    }
    return model::build_upscale_run_spec(
        model::UpscaleInput{*parent->output_video, weight, run.params.upscale_prompt});
}

std::optional<int> num_steps_flag(const store::RunRecord& run) {
    if (run.kind == core::RunKind::upscale) {
        return run.params.num_steps;
    }
    return std::nullopt;
}

core::Status check_inputs_exist(const store::PromptRecord& prompt) {
    std::error_code ec;
    if (prompt.input_video && !fs::exists(*prompt.input_video, ec)) {
        return fail(
            ErrorCode::not_found,
            fmt::format("prompt {}: input video {} is gone", prompt.id, *prompt.input_video));
    }
    for (const auto& [m, path] : prompt.controls) {
        if (!fs::exists(path, ec)) {
            return fail(ErrorCode::not_found,
                        fmt::format("prompt {}: {} control {} is gone", prompt.id, m, path));
        }
    }
    for (const auto& [m, path] : prompt.masks) {
        if (!fs::exists(path, ec)) {
            return fail(ErrorCode::not_found,
                        fmt::format("prompt {}: {} mask {} is gone", prompt.id, m, path));
        }
    }
    return {};
}

}  // namespace cosmos::scheduler
