// Transfer25Run's generation half, per sample as Control2WorldInference._generate_sample does it:
// saved arguments, the prompt guardrail, the chunk-by-chunk diffusion (num_video_frames_per_chunk
// frames a chunk, each later chunk conditioned on num_conditional_frames of the previous one),
// the control and mask videos, the video guardrail and the output video.
#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include <fmt/format.h>

#include "failures.hpp"
#include "pacing.hpp"
#include "python_error.hpp"
#include "transfer25_run.hpp"

namespace cosmos::emulator {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

constexpr double k_min_gpu_memory_gb_25 = 65;   // single-GPU 720p, as NVIDIA publishes
constexpr double k_control_model_seconds = 10;  // Video Depth Anything / SAM2 per video
constexpr const char* k_generate = "main>generate>_generate_sample>generate_img2world";

// The model's resolutions (VIDEO_RES_SIZE_INFO): name -> sizes for 16:9, 4:3, 1:1, 3:4, 9:16.
const std::vector<std::pair<std::string, std::array<OutputSize, 5>>> k_resolutions = {
    {"1080", {{{1920, 1056}, {1440, 1056}, {1024, 1024}, {1056, 1440}, {1056, 1920}}}},
    {"1024", {{{1280, 768}, {1280, 1024}, {1024, 1024}, {1024, 1280}, {768, 1280}}}},
    {"720", {{{1280, 704}, {960, 704}, {960, 960}, {704, 960}, {704, 1280}}}},
    {"512", {{{640, 384}, {640, 512}, {512, 512}, {512, 640}, {384, 640}}}},
    {"480", {{{768, 432}, {640, 480}, {480, 480}, {480, 640}, {432, 768}}}},
    {"480p", {{{832, 480}, {640, 480}, {640, 640}, {480, 640}, {480, 832}}}},
    {"720p", {{{1280, 720}, {960, 720}, {960, 960}, {720, 960}, {720, 1280}}}},
    {"720robocasa", {{{1280, 720}, {960, 720}, {720, 720}, {720, 960}, {720, 1280}}}},
    {"256", {{{320, 192}, {320, 256}, {256, 256}, {256, 320}, {192, 320}}}},
};

// detect_aspect_ratio: the closest of 16:9, 4:3, 1:1, 3:4, 9:16 by squared ratio difference.
std::size_t aspect_index(int width, int height) {
    static constexpr std::array<double, 5> k_ratios = {16.0 / 9, 4.0 / 3, 1.0, 3.0 / 4, 9.0 / 16};
    double ratio = height > 0 ? static_cast<double>(width) / height : 16.0 / 9;
    std::size_t best = 0;
    for (std::size_t i = 1; i < k_ratios.size(); ++i) {
        if (std::pow(k_ratios[i] - ratio, 2) < std::pow(k_ratios[best] - ratio, 2)) {
            best = i;
        }
    }
    return best;
}

core::Result<media::VideoInfo> probe(const std::string& path) {
    auto info = media::probe_video(path);
    if (info) {
        return info;
    }
    if (info.error().code == core::ErrorCode::not_found) {
        return file_not_found(path, k_generate);
    }
    return raise_py("RuntimeError", info.error().message, k_generate);
}

// _get_num_chunks: one chunk up to a chunk's frames, then one per (chunk - conditional) frames.
std::int64_t chunk_count(std::int64_t frames, std::int64_t per_chunk, std::int64_t conditional) {
    if (per_chunk == 1 || frames <= per_chunk) {
        return 1;
    }
    std::int64_t step = std::max<std::int64_t>(1, per_chunk - conditional);
    return 1 + (frames - per_chunk + step - 1) / step;
}

std::string str(const Json& v) {
    return v.is_string() ? v.get<std::string>() : "";
}

// A control or mask video must line up with the input, frame for frame (and pixel for pixel
// for a mask).
core::Status check_companion(const std::string& what,
                             const std::string& path,
                             const media::VideoInfo& input,
                             bool same_size) {
    COSMOS_TRY(media::VideoInfo info, probe(path));
    if (info.frames != input.frames) {
        return raise_py("ValueError",
                        fmt::format("{} {} has {} frames, the input video has {}: they must match",
                                    what,
                                    path,
                                    info.frames,
                                    input.frames),
                        k_generate);
    }
    if (same_size && (info.width != input.width || info.height != input.height)) {
        return raise_py("ValueError",
                        fmt::format("{} {} is {}x{}, the input video is {}x{}: they must match",
                                    what,
                                    path,
                                    info.width,
                                    info.height,
                                    input.width,
                                    input.height),
                        k_generate);
    }
    return {};
}

}  // namespace

core::Result<Plan25> Transfer25Run::plan(const Sample25& sample) {
    const Json& a = sample.args;
    Plan25 p;
    COSMOS_TRY(p.input, probe(str(a["video_path"])));
    if (p.input.frames <= 0) {
        return raise_py("ValueError", "Input video is empty", k_generate);
    }
    p.frames = a["max_frames"].is_null()
                   ? p.input.frames
                   : std::min(p.input.frames, a["max_frames"].get<std::int64_t>());
    for (const std::string& key : sample.hint_keys) {
        const Json& c = a[key];
        if (!c["control_path"].is_null()) {
            COSMOS_CHECK(
                check_companion(key + " control video", str(c["control_path"]), p.input, false));
        }
        if (!c["mask_path"].is_null()) {
            COSMOS_CHECK(check_companion(key + " mask", str(c["mask_path"]), p.input, true));
        }
    }
    const std::string resolution = str(a["resolution"]);
    auto it = std::find_if(k_resolutions.begin(), k_resolutions.end(), [&](const auto& r) {
        return r.first == resolution;
    });
    if (it == k_resolutions.end()) {
        return raise_py(
            "KeyError", py_repr(resolution), k_generate + std::string(">read_and_process_video"));
    }
    p.model_size = it->second[aspect_index(p.input.width, p.input.height)];
    return p;
}

core::Status Transfer25Run::generate() {
    std::vector<std::string> names;
    for (const Sample25& s : m_batch.samples) {
        names.push_back(py_repr(str(s.args["name"])));
    }
    m_log.line(Level::info,
               sites25::k_generating,
               fmt::format("Generating {} samples: [{}]", names.size(), fmt::join(names, ", ")));
    for (std::size_t i = 0; i < m_batch.samples.size(); ++i) {
        m_log.line(Level::info,
                   sites25::k_processing,
                   fmt::format("[{}/{}] Processing sample {}",
                               i + 1,
                               m_batch.samples.size(),
                               str(m_batch.samples[i].args["name"])));
        COSMOS_CHECK(generate_sample(i));
    }
    if (m_setup.benchmark) {
        const std::string rule(50, '=');
        for (const char* text : {rule.c_str(), "BENCHMARK RESULTS", rule.c_str()}) {
            m_log.line(Level::info, sites25::k_benchmark, text);
        }
    }
    return {};
}

fs::path Transfer25Run::output_path(const Sample25& sample, const std::string& suffix) const {
    return fs::path(m_setup.output_dir) / (str(sample.args["name"]) + suffix);
}

// The text guardrail on one prompt: true when it passes; a block is skipped under keep-going,
// an Exception otherwise.
core::Result<bool> Transfer25Run::guard(const std::string& what, const std::string& text) {
    const EmulatorConfig& c = m_ctx.config;
    bool blocked = c.fail == FailMode::guardrail ||
                   (!c.block_prompt.empty() && text.find(c.block_prompt) != std::string::npos);
    if (!blocked) {
        m_log.line(Level::success,
                   what == "Prompt" ? sites25::k_passed : sites25::k_passed_negative,
                   what == "Prompt" ? "Passed guardrail on prompt"
                                    : "Passed guardrail on negative prompt");
        return true;
    }
    std::string message = fmt::format("Guardrail blocked generation. {}: {}", what, text);
    m_log.line(Level::critical, sites25::k_blocked, message);
    if (!m_setup.keep_going) {
        return raise_py("Exception", message, "main>generate>_generate_sample");
    }
    return false;
}

core::Result<bool> Transfer25Run::guard_prompts(const Sample25& sample) {
    if (m_setup.disable_guardrails) {
        m_log.line(
            Level::warning, sites25::k_guard_disabled, "Guardrail checks on prompt are disabled");
        return true;
    }
    m_log.line(Level::info, sites25::k_guard_prompt, "Running guardrail check on prompt...");
    COSMOS_TRY(bool passed, guard("Prompt", str(sample.args["prompt"])));
    if (passed && !m_setup.distilled()) {
        COSMOS_TRY(passed, guard("Negative prompt", str(sample.args["negative_prompt"])));
    }
    return passed;
}

core::Status Transfer25Run::generate_sample(std::size_t index) {
    const Sample25& sample = m_batch.samples[index];
    const Plan25& plan = m_plans[index];
    fs::path args_path = output_path(sample, ".json");
    std::ofstream(args_path) << sample.args.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
    m_log.line(Level::info, sites25::k_saved_args, "Saved arguments to " + args_path.string());
    COSMOS_TRY(bool passed, guard_prompts(sample));
    if (!passed) {
        return {};
    }
    COSMOS_CHECK(sample_videos(sample, plan));
    COSMOS_CHECK(denoise(sample, plan.frames));
    return save_outputs(sample, plan);
}

// The control inputs: the given videos, or computed from the input (depth and seg run a model).
core::Status Transfer25Run::sample_videos(const Sample25& sample, const Plan25& /*plan*/) {
    Json paths = Json::object();
    for (const std::string& key : sample.hint_keys) {
        const Json& c = sample.args[key];
        paths[key] = c["control_path"];
        paths[key + "_mask"] = c["mask_path"];
        paths[key + "_mask_prompt"] = c["mask_prompt"];
    }
    m_log.line(
        Level::info, sites25::k_paths, "Processing the following paths: " + py_value_repr(paths));
    const Json& seg = sample.args["seg"];
    if (!seg.is_null() && seg["control_path"].is_null() && seg["control_prompt"].is_null()) {
        m_log.line(
            Level::warning,
            sites25::k_seg_prompt,
            "No \"control_prompt\" provided for on-the-fly segmentation, using the first 128 "
            "words of the input prompt");
    }
    m_log.line(Level::info, sites25::k_input, "Loading input video...");
    m_log.line(Level::info, sites25::k_controls, "Loading control inputs...");
    for (const std::string& key : sample.hint_keys) {
        bool computed =
            sample.args[key]["control_path"].is_null() && (key == "depth" || key == "seg");
        if (computed) {
            COSMOS_CHECK(sleep_for(k_control_model_seconds * m_ctx.config.time_scale));
        }
    }
    return {};
}

core::Status Transfer25Run::denoise(const Sample25& sample, std::int64_t frames) {
    const Json& a = sample.args;
    const std::int64_t steps = a["num_steps"].get<std::int64_t>();
    const std::int64_t chunks = chunk_count(frames,
                                            a["num_video_frames_per_chunk"].get<std::int64_t>(),
                                            a["num_conditional_frames"].get<std::int64_t>());
    const double speedup = m_world > 1 ? 0.85 * m_world : 1;
    const double step_seconds = m_ctx.config.step_seconds / speedup * m_ctx.config.time_scale;
    for (std::int64_t chunk = 1; chunk <= chunks; ++chunk) {
        m_log.line(
            Level::info, sites25::k_chunk, fmt::format("Generating chunk {}/{}", chunk, chunks));
        const ChunkFailure failure{
            chunk,
            step_seconds * static_cast<double>(steps),
            m_world > 1 ? k_min_gpu_memory_gb_25 / 2 : k_min_gpu_memory_gb_25,
            "main>generate>_generate_sample>generate_img2world>generate_samples_from_batch"};
        COSMOS_CHECK(inject_chunk_failure(m_ctx, failure));
        ProgressBar bar(static_cast<int>(steps), "Generating samples");
        for (std::int64_t step = 0; step < steps; ++step) {
            COSMOS_CHECK(sleep_for(step_seconds));
            bar.update();
        }
    }
    m_log.line(
        Level::info,
        sites25::k_chunk_time,
        fmt::format("Average time per chunk: {}", step_seconds * static_cast<double>(steps)));
    if (m_setup.distilled() && frames > 93) {
        m_log.line(Level::warning,
                   sites25::k_distilled_long,
                   fmt::format("Generated output has {} frames (> 93). The distilled Transfer 2.5 "
                               "model is not trained to support auto-regressive generation",
                               frames));
    }
    return {};
}

core::Status Transfer25Run::save_outputs(const Sample25& sample, const Plan25& plan) {
    const Json& a = sample.args;
    const bool keep = a["keep_input_resolution"].get<bool>();
    const OutputSize single = keep ? OutputSize{plan.input.width - plan.input.width % 2,
                                                plan.input.height - plan.input.height % 2}
                                   : plan.model_size;
    const int fps = std::max(1, static_cast<int>(plan.input.fps));
    const std::int64_t seed = a["seed"].get<std::int64_t>();
    const std::string input = str(a["video_path"]);
    for (const std::string& key : sample.hint_keys) {
        const Json& c = a[key];
        std::string source = c["control_path"].is_null() ? input : str(c["control_path"]);
        fs::path path = output_path(sample, "_control_" + key + ".mp4");
        std::int64_t look = seed ^ static_cast<std::int64_t>(std::hash<std::string>{}(key) >> 1);
        COSMOS_CHECK(
            write_output_video(OutputRequest{source, plan.frames, single, fps, look, path}));
        m_log.line(Level::info,
                   sites25::k_control_saved,
                   fmt::format("{} control video saved to {}", key, path.string()));
    }
    for (const std::string& key : sample.hint_keys) {
        if (a[key]["mask_prompt"].is_null()) {
            continue;  // only a mask generated from mask_prompt is saved
        }
        fs::path path = output_path(sample, "_mask_" + key + ".mp4");
        COSMOS_CHECK(write_output_video(
            OutputRequest{input, plan.frames, plan.model_size, fps, ~seed, path}));
        m_log.line(Level::info,
                   sites25::k_mask_saved,
                   fmt::format("Mask for {} saved to {}", key, path.string()));
    }
    if (m_setup.disable_guardrails) {
        m_log.line(Level::warning,
                   sites25::k_guard_video_disabled,
                   "Guardrail checks on video are disabled");
    } else {
        m_log.line(Level::info, sites25::k_guard_video, "Running guardrail check on video...");
        m_log.line(Level::success, sites25::k_passed_video, "Passed guardrail on generated video");
    }
    int tiles =
        1 +
        (a["show_control_condition"].get<bool>() ? static_cast<int>(sample.hint_keys.size()) : 0) +
        (a["show_input"].get<bool>() ? 1 : 0);
    fs::path video = output_path(sample, ".mp4");
    OutputSize size{single.width * tiles, single.height};
    COSMOS_CHECK(write_output_video(OutputRequest{input, plan.frames, size, fps, seed, video}));
    std::ofstream(output_path(sample, ".txt")) << str(a["prompt"]);
    m_log.line(
        Level::success, sites25::k_video_saved, "Generated video saved to " + video.string());
    m_ctx.recorder.add_output(video.string());
    m_ctx.recorder.count_sample();
    return {};
}

}  // namespace cosmos::emulator
