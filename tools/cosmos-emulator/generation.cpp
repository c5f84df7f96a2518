// TransferRun's generation half: per sample, the prompt, guardrail, frame count and controls;
// per batch of samples, the modelled diffusion over chunks; then the saved videos.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <fmt/format.h>

#include "failures.hpp"
#include "log.hpp"
#include "media/probe.hpp"
#include "pacing.hpp"
#include "python_error.hpp"
#include "transfer_run.hpp"

namespace cosmos::emulator {

namespace {

constexpr std::int64_t k_max_frames = 5000;
constexpr double k_upscale_work = 9;            // the 4K upscaler tiles each chunk 9 ways
constexpr double k_control_model_seconds = 10;  // Depth-Anything / SAM2 / rtmlib per video

std::int64_t chunks_for(std::int64_t frames) {
    return std::max<std::int64_t>(1, (frames - 1 + 119) / 120);
}

core::Result<media::VideoInfo> probe(const std::string& path) {
    auto info = media::probe_video(path);
    if (info) {
        return info;
    }
    if (info.error().code == core::ErrorCode::not_found) {
        return file_not_found(path, "demo>read_video_or_image_into_frames_BCTHW");
    }
    return raise_py(
        "RuntimeError", info.error().message, "demo>read_video_or_image_into_frames_BCTHW");
}

}  // namespace

bool TransferRun::blocked(const std::string& prompt) const {
    const EmulatorConfig& c = m_ctx.config;
    return c.fail == FailMode::guardrail ||
           (!c.block_prompt.empty() && prompt.find(c.block_prompt) != std::string::npos);
}

std::string TransferRun::upsample(const std::string& prompt) {
    std::string out = prompt +
                      " The scene is captured in photorealistic detail with natural, "
                      "consistent lighting, smooth camera motion and coherent objects.";
    log_line(Level::info, log_lines::k_upsample, "Upsampled prompt: " + out);
    return out;
}

core::Result<std::int64_t> TransferRun::count_frames(const Sample& sample, std::string& source) {
    std::vector<std::pair<std::string, media::VideoInfo>> videos;
    if (!sample.input_video_path.empty()) {
        COSMOS_TRY(auto info, probe(sample.input_video_path));
        videos.emplace_back("input video", info);
        source = sample.input_video_path;
    }
    for (const auto& [key, config] : sample.controls.items()) {
        if (config.contains("input_control")) {
            std::string path = config["input_control"].get<std::string>();
            COSMOS_TRY(auto info, probe(path));
            videos.emplace_back(key + " control video", info);
            if (source.empty()) {
                source = path;
            }
        }
    }
    if (videos.empty()) {
        return raise_py("ValueError", "no input video and no input_control video to generate from");
    }
    std::int64_t frames = k_max_frames;
    for (const auto& [name, info] : videos) {
        frames = std::min(frames, info.frames);
    }
    for (const auto& [name, info] : videos) {
        if (info.frames != videos.front().second.frames) {
            log_line(Level::warning,
                     log_lines::k_frames,
                     fmt::format("{} has {} frames, {} has {}: cutting all to the shortest ({})",
                                 videos.front().first,
                                 videos.front().second.frames,
                                 name,
                                 info.frames,
                                 frames));
            break;
        }
    }
    if (videos.front().second.frames > k_max_frames) {
        log_line(Level::warning,
                 log_lines::k_frames,
                 fmt::format("Video has {} frames; only the first {} are generated",
                             videos.front().second.frames,
                             k_max_frames));
    }
    return frames;
}

core::Status TransferRun::compute_missing_controls(const Sample& sample) {
    for (const auto& [key, config] : sample.controls.items()) {
        if (config.contains("input_control") || key == "upscale") {
            continue;
        }
        if (key == "hdmap" || key == "lidar") {
            return raise_py("ValueError",
                            fmt::format("{} controlnet must have 'input_control' video specified; "
                                        "it cannot be computed from the input video",
                                        key));
        }
        std::string how = key == "vis"     ? "blur, strength " + m_args.blur_strength
                          : key == "edge"  ? "Canny, threshold " + m_args.canny_threshold
                          : key == "depth" ? "Depth-Anything-V2 from the Hugging Face cache"
                          : key == "seg"   ? "GroundingDINO + SAM2 from the Hugging Face cache"
                                           : "rtmlib";
        log_line(Level::info,
                 log_lines::k_controls,
                 fmt::format("Computing {} control from the input video ({})", key, how));
        if (key != "vis" && key != "edge") {
            core::Status slept = sleep_for(k_control_model_seconds * m_ctx.config.time_scale);
            if (!slept) {
                return slept;
            }
        }
    }
    return {};
}

core::Result<std::optional<PlannedSample>> TransferRun::plan(Sample sample) {
    log_line(Level::info, log_lines::k_prompt, "Run with prompt: " + sample.prompt);
    if (!sample.input_video_path.empty()) {
        log_line(Level::info,
                 log_lines::k_prompt + 1,
                 "Run with image or video path: " + sample.input_video_path);
    }
    PlannedSample p;
    p.prompt = m_args.upsample_prompt ? upsample(sample.prompt) : sample.prompt;
    if (blocked(p.prompt)) {
        log_line(Level::critical, log_lines::k_guardrail, "Input text prompt is not safe");
        if (m_ctx.config.guardrail == GuardrailMode::typeerror) {
            return raise_py("TypeError", "cannot unpack non-iterable NoneType object");
        }
        log_line(Level::critical, log_lines::k_guardrail + 2, "Guardrail blocked generation.");
        return std::optional<PlannedSample>();
    }
    COSMOS_TRY(p.frames, count_frames(sample, p.source));
    COSMOS_TRY(auto info, probe(p.source));
    core::Status computed = compute_missing_controls(sample);
    if (!computed) {
        return core::fail(std::move(computed).error());
    }
    if (sample.controls.contains("upscale")) {
        auto wh = m_ctx.config.upscale_size.value_or(std::pair{3840, 2112});
        p.size = OutputSize{wh.first, wh.second};
    } else {
        p.size = snap_output_size(info.width, info.height);
    }
    p.sample = std::move(sample);
    return std::optional<PlannedSample>(std::move(p));
}

core::Status TransferRun::inject_failure(std::int64_t chunk, double chunk_seconds) {
    return inject_chunk_failure(
        m_ctx, ChunkFailure{chunk, chunk_seconds, k_min_gpu_memory_gb, "demo>generate>forward"});
}

core::Status TransferRun::denoise(std::int64_t chunks, std::size_t batch) {
    const EmulatorConfig& c = m_ctx.config;
    double gpu_speedup = m_args.num_gpus > 1 ? 0.85 * static_cast<double>(m_args.num_gpus) : 1;
    double work = m_specs.controls.contains("upscale") ? k_upscale_work : 1;
    double chunk_seconds = static_cast<double>(m_args.num_steps) * c.step_seconds * work *
                           static_cast<double>(batch) / gpu_speedup * c.time_scale;
    ProgressBar bar(static_cast<int>(chunks));
    for (std::int64_t chunk = 1; chunk <= chunks; ++chunk) {
        core::Status failed = inject_failure(chunk, chunk_seconds);
        if (!failed) {
            return failed;
        }
        core::Status slept = sleep_for(chunk_seconds);
        if (!slept) {
            return slept;
        }
        log_line(Level::info, log_lines::k_sampling, "Completed diffusion sampling");
        bar.update();
    }
    bar.close();
    return {};
}

core::Status TransferRun::save(const PlannedSample& p, int output_index) {
    namespace fs = std::filesystem;
    fs::path folder = m_args.video_save_folder;
    fs::path video, prompt;
    if (m_args.batch_input_path.empty()) {
        video = folder / (m_args.video_save_name + ".mp4");
        prompt = folder / (m_args.video_save_name + ".txt");
    } else {
        fs::path dir = folder / fmt::format("video_{}", output_index);
        std::error_code ec;
        fs::create_directories(dir, ec);
        video = dir / "output.mp4";
        prompt = dir / "prompt.txt";
    }
    core::Status written = write_output_video(OutputRequest{
        p.source, p.frames, p.size, static_cast<int>(m_args.fps), m_args.seed, video});
    if (!written) {
        return written;
    }
    log_line(Level::info, log_lines::k_saved, "Saved video to " + video.string());
    std::ofstream(prompt) << p.prompt;
    log_line(Level::info, log_lines::k_saved + 1, "Saved prompt to " + prompt.string());
    m_ctx.recorder.add_output(video.string());
    m_ctx.recorder.count_sample();
    return {};
}

core::Status TransferRun::run_group(const std::vector<Sample>& group, int& next_output) {
    std::vector<PlannedSample> planned;
    for (const Sample& s : group) {
        COSMOS_TRY(auto p, plan(s));
        if (p) {
            planned.push_back(std::move(*p));
        }
    }
    if (planned.empty()) {
        return {};
    }
    std::int64_t chunks = 1;
    for (const auto& p : planned) {
        chunks = std::max(chunks, chunks_for(p.frames));
    }
    core::Status denoised = denoise(chunks, planned.size());
    if (!denoised) {
        return denoised;
    }
    for (const auto& p : planned) {
        // Batches of one keep the line's number; larger batches number their outputs in order,
        // so a blocked sample shifts the later ones (as the model contract describes).
        int index = m_args.batch_size == 1 ? p.sample.index : next_output++;
        core::Status saved = save(p, index);
        if (!saved) {
            return saved;
        }
    }
    return {};
}

core::Status TransferRun::generate() {
    int next_output = 0;
    auto batch = static_cast<std::size_t>(m_args.batch_size);
    for (std::size_t begin = 0; begin < m_samples.size(); begin += batch) {
        std::size_t end = std::min(m_samples.size(), begin + batch);
        std::vector<Sample> group(m_samples.begin() + static_cast<long>(begin),
                                  m_samples.begin() + static_cast<long>(end));
        core::Status done = run_group(group, next_output);
        if (!done) {
            return done;
        }
    }
    return {};
}

}  // namespace cosmos::emulator
