#pragma once
// The generator's asynchronous video jobs: a queue and COSMOS_EMULATOR_SERVER_CONCURRENCY
// scheduler threads that run them (queued -> in_progress -> completed / failed), each in its
// own directory under the server's state directory. See docs/emulator.md "Cosmos 3 server mode".

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "config.hpp"
#include "server_form.hpp"

namespace cosmos::emulator {

struct JobError {
    std::string code;  // "guardrail_blocked", "generation_failed", "server_shutdown"
    std::string message;
};

struct VideoJob {
    std::string id;  // "video-<32 hex>"
    std::int64_t created_at = 0;
    VideoParams params;
    InputReference input;
    std::filesystem::path dir;
    // Guarded by the store's mutex:
    std::string status = "queued";
    int progress = 0;
    std::int64_t completed_at = 0;
    std::optional<JobError> error;
    bool cancelled = false;  // DELETE or shutdown: the worker stops at its next check
    bool running = false;    // a worker holds it

    std::filesystem::path output() const { return dir / "output.mp4"; }
};

class JobStore {
public:
    JobStore(const EmulatorConfig& config, std::filesystem::path state_dir, std::string model);
    ~JobStore();
    JobStore(const JobStore&) = delete;
    JobStore& operator=(const JobStore&) = delete;

    // Starts `concurrency` scheduler threads.
    void start(int concurrency);
    // Cancels every job, wakes the workers and joins them.
    void stop();

    // A new job id and its (created) directory.
    core::Result<std::shared_ptr<VideoJob>> new_job();
    // Queues the job (its params and input filled in); returns its API object as queued.
    nlohmann::ordered_json submit(const std::shared_ptr<VideoJob>& job);

    // The job's API object, nullopt when no such job.
    std::optional<nlohmann::ordered_json> describe(const std::string& id);
    nlohmann::ordered_json list();
    // The status ("completed", ...) and output path; nullopt when no such job.
    std::optional<std::pair<std::string, std::filesystem::path>> output_of(const std::string& id);
    // Aborts the job (waiting up to about 2 s for its worker to let go), forgets it and
    // removes its directory. False when no such job.
    bool remove(const std::string& id);
    // Blocks until the job is completed or failed (or the store stops); returns its status.
    std::string wait(const std::string& id);

private:
    void worker();
    void run(const std::shared_ptr<VideoJob>& job);
    bool generate(const std::shared_ptr<VideoJob>& job);  // false: cancelled or failed
    void finish(const std::shared_ptr<VideoJob>& job, std::optional<JobError> error);
    bool cancelled(const VideoJob& job);
    nlohmann::ordered_json to_json(const VideoJob& job) const;  // with the mutex held

    const EmulatorConfig& m_config;
    std::filesystem::path m_state_dir;
    std::string m_model;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<std::shared_ptr<VideoJob>> m_queue;
    std::vector<std::shared_ptr<VideoJob>> m_jobs;  // in creation order
    std::vector<std::thread> m_threads;
    bool m_stopping = false;
};

}  // namespace cosmos::emulator
