#include "scheduler/served_job.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "backends/model_server.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "scheduler/record.hpp"
#include "store/run_store.hpp"

namespace cosmos::scheduler {

using core::ErrorCode;
using core::fail;
namespace fs = std::filesystem;

namespace {

// Status polls start quick (a short request's end is seen within ~0.1 s) and slow down to one a
// second for long ones.
constexpr auto k_first_poll = std::chrono::milliseconds(100);
constexpr auto k_max_poll = std::chrono::milliseconds(1000);

// Appends one line to the run's log (its run dir: `cosmos logs` reads it).
void log_line(const App& app, const std::string& run_id, const std::string& line) {
    std::error_code ec;
    fs::create_directories(app.run_dir(run_id), ec);
    std::ofstream(app.run_dir(run_id) / "run.log", std::ios::app)
        << core::now_iso() << " " << line << "\n";
}

// Sends the request; records the job id on the run.
core::Result<std::string> send(const App& app,
                               const store::RunRecord& run,
                               const backends::ServerLease& lease,
                               const nlohmann::ordered_json& spec) {
    core::warn_on_error(backends::mark_request(lease, run.id, true), "mark_request");
    auto started = std::chrono::steady_clock::now();
    auto id = backends::create_video(lease.endpoint, spec);
    if (!id) {
        core::warn_on_error(backends::mark_request(lease, run.id, false), "mark_request");
        return id;
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    COSMOS_CHECK(store::record_remote(
        app.db, run.id, store::RemoteRecord{k_served_runtime, *id, std::nullopt}));
    std::error_code ec;
    auto bytes = spec.contains("input_reference")
                     ? fs::file_size(spec["input_reference"].get<std::string>(), ec)
                     : 0;
    COSMOS_CHECK(store::record_costs(
        app.db,
        run.id,
        store::CostRecord{
            static_cast<std::int64_t>(ec ? 0 : bytes), seconds, std::nullopt, std::nullopt}));
    log_line(app, run.id, fmt::format("sent to {}: job {}", lease.endpoint.where, *id));
    return id;
}

// The requests running on `host`'s server now (this one included): at least 1.
std::int64_t sharing(const App& app, const config::HostConfig& host) {
    store::RunQuery q;
    q.status = store::RunStatus::running;
    q.host = host.name;
    q.limit = 10000;
    auto running = store::list_runs(app.db, q);
    return running ? std::max<std::int64_t>(1, static_cast<std::int64_t>(running->size())) : 1;
}

core::Status record_request(const App& app,
                            const store::RunRecord& run,
                            const config::HostConfig& host,
                            const nlohmann::ordered_json& spec) {
    fs::path run_dir = app.run_dir(run.id);
    std::error_code ec;
    fs::create_directories(run_dir, ec);
    std::ofstream(run_dir / "spec.json") << spec.dump(2) << "\n";
    nlohmann::ordered_json command = {
        {"request", "POST /v1/videos"},
        {"host", host.name},
        {"url", host.kind == core::HostKind::http ? host.server.url : "(through SSH)"},
        {"runtime", k_served_runtime}};
    return store::record_launch(app.db,
                                run.id,
                                store::LaunchRecord{host.name,
                                                    command.dump(),
                                                    spec.dump(2),
                                                    (run_dir / "outputs").string(),
                                                    (run_dir / "run.log").string()});
}

// How a followed job ended.
struct Followed {
    backends::VideoJob job;
    bool stopped = false;  // the caller's stop flag
    bool lost = false;     // the server forgot the job or is gone (a server that died)
};

core::Result<Followed> follow(const App& app,
                              const std::string& run_id,
                              const backends::ServerLease& lease,
                              const std::string& job_id,
                              const AttachOptions& options) {
    std::string last_status;
    int last_percent = -1;
    int failures = 0;
    auto poll = k_first_poll;
    for (;;) {
        if (options.stop != nullptr && options.stop->load()) {
            return Followed{{job_id, last_status}, true, false};
        }
        auto job = backends::get_video(lease.endpoint, job_id);
        if (!job) {
            if (job.error().code == ErrorCode::not_found) {
                return Followed{{job_id, "lost"}, false, true};
            }
            // A server cosmos runs that ended took its jobs with it; an http host's server may
            // come back (the run stays running; `cosmos logs -f` follows it again).
            COSMOS_TRY(bool gone, backends::server_gone(lease));
            if (gone) {
                return Followed{{job_id, "lost"}, false, true};
            }
            if (++failures > 30) {
                return fail(job.error());
            }
            std::this_thread::sleep_for(k_max_poll);
            continue;
        }
        failures = 0;
        int percent = static_cast<int>(job->progress * 100);
        if (job->status != last_status || percent / 10 != last_percent / 10) {
            log_line(app, run_id, fmt::format("job {}: {} {}%", job_id, job->status, percent));
            last_status = job->status;
            last_percent = percent;
            core::warn_on_error(store::record_progress(app.db, run_id, job->progress),
                                "store::record_progress");
            if (options.sink) {
                options.sink(backends::Progress{run_id, job->progress, 0, 1, job->status});
            }
        }
        if (job->terminal()) {
            return Followed{*job, false, false};
        }
        std::this_thread::sleep_for(poll);
        poll = std::min(k_max_poll, poll * 3 / 2);
    }
}

// Records how a followed request ended: its video downloaded, or its error.
core::Result<store::RunRecord> finish(const App& app,
                                      const store::RunRecord& run,
                                      const config::HostConfig& host,
                                      const backends::ServerLease& lease,
                                      const backends::VideoJob& job,
                                      const AttachOptions& options) {
    fs::path video = app.run_dir(run.id) / "outputs" / "output.mp4";
    Outcome outcome{Verdict::failed, ""};
    std::optional<std::string> output;
    if (job.status == "completed") {
        auto started = std::chrono::steady_clock::now();
        auto got = backends::download_video(lease.endpoint, job.id, video);
        if (!got) {
            return fail(got.error().code,
                        fmt::format("run {} ended but its video could not be downloaded: {}",
                                    run.id,
                                    got.error().message),
                        fmt::format("retry with: cosmos logs -f {}", run.id));
        }
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        // Its share of the server's GPUs: the time it took x the GPUs the server holds, shared
        // with the requests in flight with it (docs/cost.md).
        double run_seconds = core::seconds_since_iso(run.started_at);
        COSMOS_CHECK(store::record_costs(
            app.db,
            run.id,
            store::CostRecord{std::nullopt,
                              std::nullopt,
                              run_seconds,
                              seconds,
                              run_seconds * host.gpus / static_cast<double>(sharing(app, host)),
                              host.price_per_gpu_hour}));
        outcome = {Verdict::succeeded, ""};
        output = video.string();
        log_line(app, run.id, fmt::format("job {}: downloaded {} bytes", job.id, *got));
        core::warn_on_error(backends::delete_video(lease.endpoint, job.id), "delete_video");
    } else {
        bool guardrail = job.error_code && job.error_code->find("guardrail") != std::string::npos;
        outcome.error = guardrail ? fmt::format("the guardrail blocked the prompt: {}",
                                                job.error.value_or("no reason given"))
                                  : fmt::format("the server failed the request: {}",
                                                job.error.value_or("no reason given"));
        log_line(app, run.id, fmt::format("job {}: failed: {}", job.id, job.error.value_or("")));
    }
    core::warn_on_error(backends::mark_request(lease, run.id, false), "mark_request");
    COSMOS_TRY(bool moved, record_end(app.db, run.id, outcome, -1, output));
    if (moved && options.sink) {
        if (output) {
            options.sink(backends::Finished{run.id, *output});
        } else {
            options.sink(backends::Failed{run.id, outcome.error});
        }
    }
    return store::require_run(app.db, run.id);
}

core::Result<store::RunRecord> cancel(const App& app,
                                      const store::RunRecord& run,
                                      const backends::ServerLease& lease,
                                      const std::string& job_id) {
    // Cancelled first, so a follower in another process that sees the job vanish does not
    // record the kill as a failure (nor send the request again).
    COSMOS_CHECK(store::record_outcome(
        app.db,
        run.id,
        store::OutcomeRecord{std::nullopt, std::string("cancelled by user"), std::nullopt}));
    COSMOS_TRY(
        bool moved,
        store::transition_run(app.db, run.id, store::RunStatus::cancelled, "killed by user"));
    (void)moved;
    auto deleted = backends::delete_video(lease.endpoint, job_id);
    core::warn_on_error(backends::mark_request(lease, run.id, false), "mark_request");
    if (!deleted) {
        return fail(deleted.error().code,
                    fmt::format("run {} is cancelled, but its request {} could not be deleted: {}",
                                run.id,
                                job_id,
                                deleted.error().message),
                    "the server may finish it; its result is not collected");
    }
    log_line(app, run.id, fmt::format("job {}: cancelled (DELETE)", job_id));
    return store::require_run(app.db, run.id);
}

// Follows job `job_id` of `run` to its end; a request lost with its server is sent once more
// (to the server started again) when `spec` is given.
core::Result<store::RunRecord> follow_to_end(const App& app,
                                             const store::RunRecord& run,
                                             const config::HostConfig& host,
                                             backends::ServerLease lease,
                                             std::string job_id,
                                             const nlohmann::ordered_json* spec,
                                             const AttachOptions& options) {
    for (int attempt = 0;; ++attempt) {
        COSMOS_TRY(auto followed, follow(app, run.id, lease, job_id, options));
        if (followed.stopped) {
            if (options.kill_on_stop) {
                return cancel(app, run, lease, job_id);
            }
            return fail(ErrorCode::interrupted,
                        fmt::format("detached from run {} (it keeps running)", run.id));
        }
        COSMOS_TRY(auto now, store::require_run(app.db, run.id));
        if (store::is_terminal(now.status)) {
            core::warn_on_error(backends::mark_request(lease, run.id, false), "mark_request");
            return now;  // ended by someone else (kill): their outcome stands
        }
        if (!followed.lost) {
            if (options.on_model_end) {
                options.on_model_end();
            }
            return finish(app, run, host, lease, followed.job, options);
        }
        if (spec == nullptr || attempt > 0 || lease.state_dir.empty()) {
            std::string why =
                fmt::format("the model server of host {} lost request {} (it restarted or died)",
                            host.name,
                            job_id);
            log_line(app, run.id, why);
            core::warn_on_error(backends::mark_request(lease, run.id, false), "mark_request");
            COSMOS_TRY(bool moved,
                       record_end(app.db, run.id, {Verdict::failed, why}, -1, std::nullopt));
            (void)moved;
            return store::require_run(app.db, run.id);
        }
        log_line(app,
                 run.id,
                 "the model server died; starting it again and sending the request once more");
        COSMOS_CHECK(store::add_run_note(
            app.db,
            run.id,
            fmt::format("host {}: the model server died; request sent again", host.name)));
        COSMOS_TRY(lease, backends::open_server(host));
        COSMOS_TRY(job_id, send(app, run, lease, *spec));
    }
}

}  // namespace

core::Result<store::RunRecord> execute_served_run(const App& app,
                                                  const store::RunRecord& run,
                                                  const config::HostConfig& host,
                                                  const nlohmann::ordered_json& spec,
                                                  const RemoteExecuteOptions& options) {
    auto lease = backends::open_server(host);
    if (!lease) {
        bool transient = is_transient(lease.error());
        if (!(options.requeue_transient && transient) &&
            lease.error().code != ErrorCode::invalid_input) {
            core::warn_on_error(store::fail_run(app.db, run.id, lease.error().message),
                                "store::fail_run");
        }
        return fail(lease.error());
    }
    COSMOS_TRY(bool started,
               store::transition_run(app.db,
                                     run.id,
                                     store::RunStatus::running,
                                     fmt::format("sending the request to host {}", host.name)));
    if (!started) {
        return fail(ErrorCode::conflict, fmt::format("run {} was ended by someone else", run.id));
    }
    COSMOS_CHECK(record_request(app, run, host, spec));
    auto job_id = send(app, run, *lease, spec);
    if (!job_id) {
        if (options.requeue_transient && is_transient(job_id.error())) {
            core::warn_on_error(
                store::transition_run(app.db,
                                      run.id,
                                      store::RunStatus::queued,
                                      fmt::format("request not sent: {}", job_id.error().message)),
                "store::transition_run");
            return fail(job_id.error());
        }
        return store::fail_run(app.db, run.id, job_id.error().message);
    }
    COSMOS_CHECK(
        store::transition_run(app.db,
                              run.id,
                              store::RunStatus::running,
                              fmt::format("request {} accepted by host {}", *job_id, host.name)));
    if (options.attach.sink) {
        options.attach.sink(backends::Launched{run.id, host.name});
    }
    if (options.detach) {
        return store::require_run(app.db, run.id);
    }
    return follow_to_end(app, run, host, *lease, *job_id, &spec, options.attach);
}

core::Result<store::RunRecord> attach_served_run(const App& app,
                                                 const store::RunRecord& run,
                                                 const config::HostConfig& host,
                                                 const AttachOptions& options) {
    if (!run.remote_dir) {
        return fail(ErrorCode::conflict,
                    fmt::format("run {}'s request was not accepted yet", run.id),
                    "try again in a moment");
    }
    COSMOS_TRY(auto lease, backends::open_server(host));
    nlohmann::ordered_json spec;
    if (run.spec) {
        spec = nlohmann::ordered_json::parse(*run.spec, nullptr, false);
    }
    const nlohmann::ordered_json* resend = spec.is_object() ? &spec : nullptr;
    return follow_to_end(app, run, host, std::move(lease), *run.remote_dir, resend, options);
}

core::Result<store::RunRecord> kill_served_run(const App& app,
                                               const store::RunRecord& run,
                                               const config::HostConfig& host) {
    COSMOS_TRY(auto lease, backends::open_server(host));
    if (!run.remote_dir) {
        return fail(ErrorCode::conflict,
                    fmt::format("run {}'s request is being sent", run.id),
                    "try again in a moment");
    }
    return cancel(app, run, lease, *run.remote_dir);
}

}  // namespace cosmos::scheduler
