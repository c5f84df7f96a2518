#include "server_jobs.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <system_error>

#include <unistd.h>

#include <fmt/format.h>

#include "gpu_locks.hpp"
#include "log.hpp"
#include "server_log.hpp"
#include "server_render.hpp"

namespace cosmos::emulator {

namespace fs = std::filesystem;

namespace {

constexpr int k_reference_frames = 121;
constexpr double k_reference_pixels = 1280.0 * 720.0;
constexpr auto k_slice = std::chrono::milliseconds(50);
constexpr auto k_delete_wait = std::chrono::milliseconds(2000);

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string random_hex(std::size_t n) {
    static std::mutex mutex;
    static std::mt19937_64 rng{std::random_device{}()};
    std::lock_guard lock(mutex);
    std::string out;
    while (out.size() < n) {
        out += fmt::format("{:016x}", rng());
    }
    return out.substr(0, n);
}

// The modelled generation time (docs/emulator.md): steps x STEP_SECONDS, scaled by frames and
// pixels against 121 frames at 1280x720, times TIME_SCALE.
double generation_seconds(const EmulatorConfig& c, const VideoParams& p) {
    return p.steps * c.step_seconds * (p.num_frames / double(k_reference_frames)) *
           (double(p.width) * p.height / k_reference_pixels) * c.time_scale;
}

[[noreturn]] void crash() {
    server_log("ERROR",
               "multiproc_executor.py:527",
               "Worker proc DiffusionWorker-0 died unexpectedly, shutting down executor.");
    print_stderr(
        "Traceback (most recent call last):\n"
        "  File \"/usr/local/lib/python3.12/dist-packages/vllm_omni/diffusion/worker.py\", "
        "line 214, in execute_model\n"
        "    output = self.pipeline.forward(request)\n"
        "  File \"/usr/local/lib/python3.12/dist-packages/vllm_omni/diffusion/models/cosmos3/"
        "pipeline_cosmos3.py\", line 688, in forward\n"
        "    noise_pred = self.transformer(hidden_states, timestep, encoder_hidden_states)\n"
        "RuntimeError: CUDA error: an illegal memory access was encountered\n"
        "CUDA kernel errors might be asynchronously reported at some other API call, so the "
        "stacktrace below might be incorrect.\n"
        "For debugging consider passing CUDA_LAUNCH_BLOCKING=1\n");
    std::fflush(nullptr);
    std::_Exit(1);
}

}  // namespace

JobStore::JobStore(const EmulatorConfig& config, fs::path state_dir, std::string model)
    : m_config(config), m_state_dir(std::move(state_dir)), m_model(std::move(model)) {}

JobStore::~JobStore() {
    stop();
}

void JobStore::start(int concurrency) {
    for (int i = 0; i < concurrency; ++i) {
        m_threads.emplace_back([this] { worker(); });
    }
}

void JobStore::stop() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        for (auto& job : m_jobs) {
            job->cancelled = true;
        }
    }
    m_changed.notify_all();
    for (auto& t : m_threads) {
        t.join();
    }
    m_threads.clear();
}

core::Result<std::shared_ptr<VideoJob>> JobStore::new_job() {
    auto job = std::make_shared<VideoJob>();
    job->id = "video-" + random_hex(32);
    job->created_at = unix_now();
    job->dir = m_state_dir / job->id;
    std::error_code ec;
    fs::create_directories(job->dir, ec);
    if (ec) {
        return core::fail(core::ErrorCode::io,
                          fmt::format("cannot create {}: {}", job->dir.string(), ec.message()));
    }
    return job;
}

nlohmann::ordered_json JobStore::submit(const std::shared_ptr<VideoJob>& job) {
    if (job->params.seed < 0) {
        job->params.seed = static_cast<std::int64_t>(std::stoull(random_hex(8), nullptr, 16));
    }
    nlohmann::ordered_json queued;
    {
        std::lock_guard lock(m_mutex);
        m_jobs.push_back(job);
        m_queue.push_back(job);
        queued = to_json(*job);
    }
    m_changed.notify_all();
    return queued;
}

void JobStore::worker() {
    while (true) {
        std::shared_ptr<VideoJob> job;
        {
            std::unique_lock lock(m_mutex);
            m_changed.wait(lock, [&] { return m_stopping || !m_queue.empty(); });
            if (m_stopping) {
                return;
            }
            job = m_queue.front();
            m_queue.pop_front();
            job->status = "in_progress";
            job->running = true;
        }
        m_changed.notify_all();
        run(job);
        {
            std::lock_guard lock(m_mutex);
            job->running = false;
        }
        m_changed.notify_all();
    }
}

bool JobStore::cancelled(const VideoJob& job) {
    std::lock_guard lock(m_mutex);
    return job.cancelled;
}

void JobStore::finish(const std::shared_ptr<VideoJob>& job, std::optional<JobError> error) {
    {
        std::lock_guard lock(m_mutex);
        job->status = error ? "failed" : "completed";
        job->progress = error ? job->progress : 100;
        job->completed_at = unix_now();
        job->error = std::move(error);
    }
    m_changed.notify_all();
    if (job->error) {
        server_log("ERROR",
                   "video_api.py:212",
                   fmt::format("Video job {} failed: {}", job->id, job->error->message));
    } else {
        server_log("INFO", "video_api.py:205", fmt::format("Video job {} completed", job->id));
    }
}

void JobStore::run(const std::shared_ptr<VideoJob>& job) {
    const VideoParams& p = job->params;
    const std::string& block = m_config.block_prompt;
    bool blocked = m_config.fail == FailMode::guardrail ||
                   (!block.empty() && p.prompt.find(block) != std::string::npos);
    if (blocked && p.guardrails) {
        finish(job,
               JobError{"guardrail_blocked",
                        "Guardrail blocked video generation: the prompt failed the text safety "
                        "check (Blocklist / Llama Guard). Change the prompt and try again."});
        return;
    }
    if (generate(job)) {
        finish(job, std::nullopt);
    }
}

bool JobStore::generate(const std::shared_ptr<VideoJob>& job) {
    const VideoParams& p = job->params;
    const double total = generation_seconds(m_config, p);
    server_log("INFO",
               "diffusion_engine.py:141",
               fmt::format("Generating {} ({} frames, {}x{}, {} steps)",
                           job->id,
                           p.num_frames,
                           p.width,
                           p.height,
                           p.steps));
    const auto start = std::chrono::steady_clock::now();
    bool failure_due = m_config.fail == FailMode::crash || m_config.fail == FailMode::oom;
    while (true) {
        if (cancelled(*job)) {
            return false;
        }
        double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (failure_due && elapsed >= total / 2) {
            if (m_config.fail == FailMode::crash) {
                crash();
            }
            const double total_gib = m_config.gpu_memory_gb * 0.93;
            finish(job,
                   JobError{"generation_failed",
                            "torch.OutOfMemoryError: " +
                                cuda_oom_message(0, total_gib, 0.31, 0, 0, total_gib - 0.31)});
            return false;
        }
        {
            std::lock_guard lock(m_mutex);
            job->progress = total <= 0 ? 95 : std::min(95, static_cast<int>(elapsed / total * 95));
        }
        if (elapsed >= total) {
            break;
        }
        std::this_thread::sleep_for(k_slice);
    }
    RenderRequest request{
        job->input, p.width, p.height, p.num_frames, p.fps, p.seed, p.prompt, job->output()};
    core::Status rendered = render_video(request, [&] { return cancelled(*job); });
    if (!rendered) {
        if (rendered.error().code != core::ErrorCode::interrupted) {
            finish(job, JobError{"generation_failed", "RuntimeError: " + rendered.error().message});
        }
        return false;
    }
    return true;
}

nlohmann::ordered_json JobStore::to_json(const VideoJob& job) const {
    const VideoParams& p = job.params;
    nlohmann::ordered_json j;
    j["id"] = job.id;
    j["object"] = "video";
    j["status"] = job.status;
    j["created_at"] = job.created_at;
    j["completed_at"] = job.completed_at > 0 ? nlohmann::ordered_json(job.completed_at)
                                             : nlohmann::ordered_json(nullptr);
    j["model"] = m_model;
    j["progress"] = job.progress;
    j["prompt"] = p.prompt;
    j["size"] = fmt::format("{}x{}", p.width, p.height);
    j["width"] = p.width;
    j["height"] = p.height;
    j["num_frames"] = p.num_frames;
    j["fps"] = p.fps;
    j["seconds"] = fmt::format("{:.2f}", double(p.num_frames) / p.fps);
    j["seed"] = p.seed;
    j["num_inference_steps"] = p.steps;
    j["error"] = job.error ? nlohmann::ordered_json{{"code", job.error->code},
                                                    {"message", job.error->message}}
                           : nlohmann::ordered_json(nullptr);
    return j;
}

std::optional<nlohmann::ordered_json> JobStore::describe(const std::string& id) {
    std::lock_guard lock(m_mutex);
    for (const auto& job : m_jobs) {
        if (job->id == id) {
            return to_json(*job);
        }
    }
    return std::nullopt;
}

nlohmann::ordered_json JobStore::list() {
    std::lock_guard lock(m_mutex);
    nlohmann::ordered_json data = nlohmann::ordered_json::array();
    for (const auto& job : m_jobs) {
        data.push_back(to_json(*job));
    }
    return {{"object", "list"}, {"data", std::move(data)}};
}

std::optional<std::pair<std::string, fs::path>> JobStore::output_of(const std::string& id) {
    std::lock_guard lock(m_mutex);
    for (const auto& job : m_jobs) {
        if (job->id == id) {
            return std::pair{job->status, job->output()};
        }
    }
    return std::nullopt;
}

bool JobStore::remove(const std::string& id) {
    std::shared_ptr<VideoJob> job;
    {
        std::unique_lock lock(m_mutex);
        auto it = std::find_if(m_jobs.begin(), m_jobs.end(), [&](auto& j) { return j->id == id; });
        if (it == m_jobs.end()) {
            return false;
        }
        job = *it;
        job->cancelled = true;
        m_jobs.erase(it);
        m_queue.erase(std::remove(m_queue.begin(), m_queue.end(), job), m_queue.end());
        m_changed.wait_for(lock, k_delete_wait, [&] { return !job->running; });
    }
    m_changed.notify_all();
    std::error_code ec;
    fs::remove_all(job->dir, ec);
    server_log("INFO", "video_api.py:248", fmt::format("Deleted video job {}", id));
    return true;
}

std::string JobStore::wait(const std::string& id) {
    std::unique_lock lock(m_mutex);
    std::string status = "failed";
    m_changed.wait(lock, [&] {
        auto it = std::find_if(m_jobs.begin(), m_jobs.end(), [&](auto& j) { return j->id == id; });
        if (it == m_jobs.end() || m_stopping) {
            return true;
        }
        status = (*it)->status;
        return status == "completed" || status == "failed";
    });
    return status;
}

}  // namespace cosmos::emulator
