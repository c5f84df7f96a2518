#include "scheduler/job.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "backends/model_launch.hpp"
#include "backends/ssh_target.hpp"
#include "core/clock.hpp"
#include "core/failpoint.hpp"
#include "core/log.hpp"
#include "core/read_file.hpp"
#include "model/model_log.hpp"
#include "scheduler/batch.hpp"
#include "scheduler/gpu_sampling.hpp"
#include "scheduler/outcome.hpp"
#include "scheduler/record.hpp"
#include "scheduler/run_spec.hpp"
#include "scheduler/served_job.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::scheduler {

using core::ErrorCode;
using core::fail;
namespace fs = std::filesystem;

namespace {

bool transient(ErrorCode code) {
    return code == ErrorCode::host_unreachable || code == ErrorCode::timeout;
}

// Runs `step` (an idempotent phase: staging, launching) again while it fails because the
// connection dropped, with backoff, for up to 90 s: a host that restarts its sshd or a flaky
// network does not fail the run.
template <class F>
auto with_reconnect(const std::string& host, F step) -> decltype(step()) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    auto backoff = std::chrono::milliseconds(250);
    for (;;) {
        auto r = step();
        if (r || !transient(r.error().code) || std::chrono::steady_clock::now() > deadline) {
            return r;
        }
        core::log(core::LogLevel::warn, "host {}: {}; retrying", host, r.error().message);
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(8000));
    }
}

}  // namespace

namespace {

// Collects and records the outcome of a run whose model ended (or was killed).
core::Result<store::RunRecord> finish_run(const App& app,
                                          const store::RunRecord& run,
                                          const backends::RemoteHost& host,
                                          const runtime::Observed& state,
                                          const backends::EventSink& sink,
                                          bool cancelled,
                                          bool requeue_transient) {
    fs::path run_dir = app.run_dir(run.id);
    auto request = backends::job_request(host, run.id);
    double run_seconds = core::seconds_since_iso(run.started_at);
    auto collected = backends::collect_job(host, request, run_dir);
    if (!collected) {
        // Nothing is lost: the outputs stay in the job dir and the run stays `running`, so the
        // next `cosmos logs -f` collects them.
        return fail(collected.error().code,
                    fmt::format("run {} ended but collecting its outputs failed: {}",
                                run.id,
                                collected.error().message),
                    fmt::format("retry with: cosmos logs -f {}", run.id));
    }
    // The GPUs it held, for as long as its model ran (docs/cost.md).
    COSMOS_CHECK(store::record_costs(app.db,
                                     run.id,
                                     store::CostRecord{std::nullopt,
                                                       std::nullopt,
                                                       run_seconds,
                                                       collected->download_seconds,
                                                       run_seconds * run.params.num_gpus,
                                                       host.config.price_per_gpu_hour}));
    bool clean_end = state.state == runtime::ProcessState::exited && state.exit_code == 0 &&
                     collected->output_video.has_value();
    auto disk_full = clean_end ? std::nullopt : backends::disk_full_note(host, request);
    if (auto s = backends::cleanup_job(host, request); !s) {
        core::log(core::LogLevel::warn, "{}", s.error().message);
    }
    COSMOS_TRY(auto prompt, store::get_prompt(app.db, run.prompt_id));
    std::int64_t frames = prompt ? prompt->video.frames : model::k_default_frames;
    const auto& family = model::model_family(run.model);
    auto tracker =
        scan_log(run_dir / "run.log", family.log_reader(family.chunks(frames, run.params)));

    auto facts = scheduler::outcome_facts(state, tracker, host.config.name);
    facts.cancelled = cancelled;
    facts.has_video = collected->output_video.has_value();
    facts.expects_video = run.kind != core::RunKind::enhance;
    facts.waited_for = run.parent_run_id;
    facts.requeue_transient = requeue_transient;
    facts.disk_full = disk_full;
    auto outcome = scheduler::decide_outcome(facts);
    COSMOS_TRY(auto now, store::require_run(app.db, run.id));
    if (store::is_terminal(now.status)) {
        return now;  // ended by someone else (kill): their outcome stands
    }
    if (outcome.verdict == scheduler::Verdict::succeeded && run.kind == core::RunKind::enhance) {
        if (auto adopted = adopt_enhanced_prompt(app, run); !adopted) {
            outcome = {scheduler::Verdict::failed, adopted.error().message};
        }
    }
    // A requeue: the cluster ended the job (node failure, preemption), not the run's fault;
    // the queue retries it within its attempt limit.
    COSMOS_TRY(
        bool moved,
        scheduler::record_end(app.db, run.id, outcome, state.exit_code, collected->output_video));
    if (!moved || outcome.verdict == scheduler::Verdict::requeue) {
        return store::require_run(app.db, run.id);
    }
    bool succeeded = outcome.verdict == scheduler::Verdict::succeeded;
    const std::string& error = outcome.error;
    if (sink) {
        if (succeeded) {
            sink(backends::Finished{run.id, collected->output_video.value_or("")});
        } else {
            sink(backends::Failed{run.id, error});
        }
    }
    return store::require_run(app.db, run.id);
}

core::Result<std::pair<store::RunRecord, config::HostConfig>> running_remote(
    const App& app, const std::string& run_id) {
    COSMOS_TRY(auto run, store::require_run(app.db, run_id));
    if (!run.host) {
        return fail(ErrorCode::conflict, fmt::format("run {} never started on a host", run_id));
    }
    COSMOS_TRY(auto host, config::find_host(app.config, *run.host));
    if (!run.remote_dir) {
        return fail(
            ErrorCode::conflict,
            fmt::format(
                "run {} on host {} has no job dir to attach to or stop yet", run_id, host.name),
            "it is still being staged: try again in a moment");
    }
    return std::pair{run, host};
}

}  // namespace

model::ProgressTracker scan_log(const fs::path& log, model::ProgressTracker tracker) {
    std::ifstream in(log, std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
        std::size_t start = 0;
        for (std::size_t i = 0; i <= line.size(); ++i) {  // '\r' also ends a line (tqdm)
            if (i == line.size() || line[i] == '\r') {
                if (i > start) {
                    tracker.feed(std::string_view(line).substr(start, i - start));
                }
                start = i + 1;
            }
        }
    }
    return tracker;
}

void spec_inputs(const nlohmann::ordered_json& j, std::vector<fs::path>& out) {
    if (j.is_string()) {
        const auto& s = j.get_ref<const std::string&>();
        std::error_code ec;
        if (!s.empty() && s.front() == '/' && fs::is_regular_file(s, ec) &&
            std::find(out.begin(), out.end(), fs::path(s)) == out.end()) {
            out.emplace_back(s);
        }
    } else if (j.is_structured()) {
        for (const auto& v : j) {
            spec_inputs(v, out);
        }
    }
}

core::Result<backends::StagedJob> stage_with_reconnect(const backends::RemoteHost& host,
                                                       const backends::RemoteJobSpec& job,
                                                       const backends::StageProgressFn& progress) {
    return with_reconnect(host.config.name,
                          [&] { return backends::stage_job(host, job, progress); });
}

core::Status launch_with_reconnect(const backends::RemoteHost& host,
                                   const runtime::LaunchRequest& request) {
    int attempts = 0;
    auto launched = with_reconnect(host.config.name, [&]() -> core::Result<bool> {
        if (attempts++ > 0) {  // an earlier attempt may have started the model before the drop
            COSMOS_TRY(auto before, backends::observe_job(host, request));
            if (before.state != runtime::ProcessState::absent) {
                return true;
            }
        }
        auto s = backends::launch_job(host, request);
        if (s || !transient(s.error().code)) {
            return s ? core::Result<bool>(true) : core::Result<bool>(fail(s.error()));
        }
        // The launch command was lost with the connection: it may have started the model.
        COSMOS_TRY(auto state, backends::observe_job(host, request));
        if (state.state != runtime::ProcessState::absent) {
            return true;
        }
        return fail(s.error());
    });
    if (!launched) {
        return fail(launched.error());
    }
    return {};
}

bool is_transient(const core::Error& e) {
    return e.code == ErrorCode::host_unreachable || e.code == ErrorCode::timeout;
}

core::Result<backends::RemoteHost> open_host(const config::HostConfig& host) {
    const auto& seams = backends::host_seams();
    COSMOS_TRY(auto shell, seams.shell ? seams.shell(host) : backends::shell_for(host));
    return backends::open_remote_host(host, std::move(shell));
}

namespace {

// The remote job of run `run`: its spec (local paths) and the inputs it names.
backends::RemoteJobSpec single_job(const App& app,
                                   const store::RunRecord& run,
                                   const store::PromptRecord& prompt,
                                   const nlohmann::ordered_json& local_spec,
                                   const RemoteExecuteOptions& options) {
    backends::RemoteJobSpec job;
    job.run_id = run.id;
    job.family = run.model;
    job.kind = run.kind;
    job.local_run_dir = app.run_dir(run.id);
    job.spec = local_spec;
    spec_inputs(local_spec, job.inputs);
    job.params = run.params;
    job.frames = prompt.video.frames;
    job.num_steps = num_steps_flag(run);
    job.gpu_ids = options.gpu_ids;
    job.after_job_dirs = options.after_job_dirs;
    return job;
}

// Records how run `id` is launched: the command, the spec as staged, the job dir, the staging.
core::Status record_single_launch(const App& app,
                                  const std::string& id,
                                  const backends::RemoteHost& host,
                                  const backends::StagedJob& staged,
                                  const fs::path& run_dir) {
    std::error_code ec;
    fs::create_directories(run_dir, ec);
    std::ofstream(run_dir / "spec.json") << staged.remote_spec.dump(2) << "\n";
    auto command = backends::describe_launch(staged.request.command);
    command["runtime"] = host.runtime->name();
    command["runtime_argv"] = host.runtime->launch_command(staged.request);
    COSMOS_CHECK(store::record_launch(app.db,
                                      id,
                                      store::LaunchRecord{host.config.name,
                                                          command.dump(),
                                                          staged.remote_spec.dump(2),
                                                          (run_dir / "outputs").string(),
                                                          (run_dir / "run.log").string()}));
    COSMOS_CHECK(store::record_remote(
        app.db,
        id,
        store::RemoteRecord{
            host.runtime->name(), staged.request.job_dir, backends::image_identity(host)}));
    return store::record_costs(app.db,
                               id,
                               store::CostRecord{static_cast<std::int64_t>(staged.uploaded_bytes),
                                                 staged.upload_seconds,
                                                 std::nullopt,
                                                 std::nullopt});
}

// Opens `host_config` and checks it can run `run` (one round trip: reachable, the model's
// checkout and launcher there) before anything changes: an unknown host key or a wrong address
// fails here with its hint, and the run records why it never started — unless a worker owns it
// and the failure is transient (it stays queued) or the host refused it (a missing checkout or
// launcher: the run stays as it was, a refusal).
core::Result<backends::RemoteHost> reach_for_run(const App& app,
                                                 const store::RunRecord& run,
                                                 const config::HostConfig& host_config,
                                                 bool requeue_transient) {
    auto host = open_host(host_config);
    core::Status ready = host ? backends::check_host_ready(*host, model::model_family(run.model))
                              : core::Status(fail(host.error()));
    if (!ready) {
        bool refused = ready.error().code == ErrorCode::not_found;
        if (!refused && !(requeue_transient && is_transient(ready.error()))) {
            core::warn_on_error(store::fail_run(app.db, run.id, ready.error().message),
                                "store::fail_run");
        }
        return fail(ready.error());
    }
    return std::move(*host);
}

}  // namespace

core::Result<store::RunRecord> execute_remote_run(const App& app,
                                                  const store::RunRecord& run,
                                                  const store::PromptRecord& prompt,
                                                  const config::HostConfig& host_config,
                                                  const nlohmann::ordered_json& local_spec,
                                                  const RemoteExecuteOptions& options) {
    const auto& sink = options.attach.sink;
    // A launcher that is not there would end the run as "exit code 127" after staging: refused
    // here, before anything changes, naming the host and the setting.
    COSMOS_TRY(auto host, reach_for_run(app, run, host_config, options.requeue_transient));
    COSMOS_TRY(bool started,
               store::transition_run(app.db,
                                     run.id,
                                     store::RunStatus::running,
                                     fmt::format("staging on host {}", host_config.name)));
    if (!started) {
        return fail(ErrorCode::conflict, fmt::format("run {} was ended by someone else", run.id));
    }
    auto job = single_job(app, run, prompt, local_spec, options);
    backends::StageProgressFn progress;
    if (sink) {
        progress = [&sink, &run](const std::string& file, std::uint64_t done, std::uint64_t total) {
            sink(backends::Transfer{run.id, "upload", file, done, total});
        };
    }
    auto staged = stage_with_reconnect(host, job, progress);
    if (!staged) {
        if (options.requeue_transient && is_transient(staged.error())) {
            core::warn_on_error(store::transition_run(
                                    app.db,
                                    run.id,
                                    store::RunStatus::queued,
                                    fmt::format("staging interrupted: {}", staged.error().message)),
                                "store::transition_run");
            return fail(staged.error());
        }
        return store::fail_run(app.db, run.id, staged.error().message);
    }
    COSMOS_CHECK(record_single_launch(app, run.id, host, *staged, job.local_run_dir));
    COSMOS_CHECK(
        store::record_gpu_ids(app.db, run.id, held_gpus(job.gpu_ids, run.params.num_gpus)));
    if (auto s = launch_with_reconnect(host, staged->request); !s) {
        // Whatever the launcher wrote explains why: bring it home with the failure.
        core::warn_on_error(backends::collect_job(host, staged->request, job.local_run_dir),
                            "backends::collect_job");
        return store::fail_run(app.db, run.id, s.error().message);
    }
    core::failpoint("launch");
    COSMOS_CHECK(store::transition_run(app.db,
                                       run.id,
                                       store::RunStatus::running,
                                       fmt::format("launched on host {}", host_config.name)));
    if (sink) {
        sink(backends::Launched{run.id, host_config.name});
    }
    if (options.detach) {
        return store::require_run(app.db, run.id);
    }
    return attach_run(app, run.id, options.attach);
}

namespace {

core::Result<store::RunRecord> attach_sampled(const App& app,
                                              const store::RunRecord& run,
                                              const config::HostConfig& host_config,
                                              const AttachOptions& options);

}  // namespace

core::Result<store::RunRecord> attach_run(const App& app,
                                          const std::string& run_id,
                                          const AttachOptions& options) {
    COSMOS_TRY(auto found, running_remote(app, run_id));
    auto& [run, host_config] = found;
    if (store::is_terminal(run.status)) {
        return run;
    }
    // The host's GPUs are sampled while the run is followed (gpu_sampling.hpp).
    auto sampling = sample_gpus(app, host_config);
    return attach_sampled(app, run, host_config, options);
}

namespace {

core::Result<store::RunRecord> attach_sampled(const App& app,
                                              const store::RunRecord& run,
                                              const config::HostConfig& host_config,
                                              const AttachOptions& options) {
    const std::string& run_id = run.id;
    if (run.runtime == k_served_runtime) {
        return attach_served_run(app, run, host_config, options);
    }
    if (run.batch_id) {
        // One model process serves the whole batch: follow it, and every line ends with it.
        BatchOptions batch;
        batch.stop = options.stop;
        batch.kill_on_stop = options.kill_on_stop;
        batch.sink = options.sink;
        batch.on_model_end = options.on_model_end;
        COSMOS_TRY(auto ended, attach_batch(app, *run.batch_id, batch));
        (void)ended;
        return store::require_run(app.db, run_id);
    }
    COSMOS_TRY(auto host, open_host(host_config));
    auto request = backends::job_request(host, run_id);
    COSMOS_TRY(auto prompt, store::get_prompt(app.db, run.prompt_id));
    std::int64_t frames = prompt ? prompt->video.frames : model::k_default_frames;
    fs::path local_log = options.mirror_log ? app.run_dir(run_id) / "run.log" : fs::path();
    auto emit = [&](const backends::JobEvent& e) {
        if (const auto* p = std::get_if<backends::Progress>(&e)) {
            core::warn_on_error(store::record_progress(app.db, run_id, p->fraction),
                                "store::record_progress");
            core::failpoint("watch");
        }
        if (options.sink) {
            options.sink(e);
        }
    };
    auto watched =
        backends::watch_job(host,
                            request,
                            model::model_family(run.model).log_reader(
                                model::model_family(run.model).chunks(frames, run.params)),
                            local_log,
                            emit,
                            options.stop);
    if (!watched) {
        if (watched.error().code == ErrorCode::interrupted && options.kill_on_stop) {
            if (auto s = backends::kill_job(host, request); !s) {
                return fail(s.error());
            }
            COSMOS_TRY(auto state, backends::observe_job(host, request));
            return finish_run(app, run, host, state, options.sink, true, options.requeue_transient);
        }
        return fail(watched.error());
    }
    if (options.on_model_end) {
        options.on_model_end();
    }
    return finish_run(
        app, run, host, watched->final_state, options.sink, false, options.requeue_transient);
}

}  // namespace

namespace {

// Brings a killed run's log (and any video it wrote) home; problems are warnings: the run is
// cancelled either way.
void collect_killed(const App& app,
                    const store::RunRecord& run,
                    const backends::RemoteHost& host,
                    const runtime::LaunchRequest& request,
                    const runtime::Observed& state) {
    auto collected = backends::collect_job(host, request, app.run_dir(run.id));
    if (!collected) {
        core::log(core::LogLevel::warn,
                  "run {} was stopped but its log could not be collected: {}",
                  run.id,
                  collected.error().message);
        return;
    }
    core::warn_on_error(
        store::record_costs(app.db,
                            run.id,
                            store::CostRecord{std::nullopt,
                                              std::nullopt,
                                              core::seconds_since_iso(run.started_at),
                                              collected->download_seconds}),
        "store::record_costs");
    if (collected->output_video) {
        core::warn_on_error(
            store::record_outcome(
                app.db,
                run.id,
                store::OutcomeRecord{state.exit_code >= 0
                                         ? std::optional<std::int64_t>(state.exit_code)
                                         : std::nullopt,
                                     std::string("cancelled by user"),
                                     collected->output_video}),
            "store::record_outcome");
    }
}

}  // namespace

core::Result<store::RunRecord> kill_run(const App& app, const std::string& run_id) {
    COSMOS_TRY(auto run, store::require_run(app.db, run_id));
    if (store::is_terminal(run.status)) {
        return fail(ErrorCode::conflict,
                    fmt::format("run {} already ended ({})", run_id, store::to_string(run.status)));
    }
    if (run.status == store::RunStatus::pending || run.status == store::RunStatus::queued) {
        COSMOS_TRY(bool moved,
                   store::transition_run(
                       app.db, run_id, store::RunStatus::cancelled, "cancelled by user"));
        (void)moved;
        return store::require_run(app.db, run_id);
    }
    if (run.batch_id) {
        return cancel_batch_run(app, run_id);
    }
    COSMOS_TRY(auto found, running_remote(app, run_id));
    if (run.runtime == k_served_runtime) {
        return kill_served_run(app, run, found.second);
    }
    COSMOS_TRY(auto host, open_host(found.second));
    auto request = backends::job_request(host, run_id);
    if (auto s = backends::kill_job(host, request); !s) {
        return fail(s.error());
    }
    COSMOS_TRY(auto state, backends::observe_job(host, request));
    // Cancelled first, so a watcher in another process does not record the kill as a failure.
    COSMOS_CHECK(store::record_outcome(
        app.db,
        run_id,
        store::OutcomeRecord{
            state.exit_code >= 0 ? std::optional<std::int64_t>(state.exit_code) : std::nullopt,
            std::string("cancelled by user"),
            std::nullopt}));
    COSMOS_TRY(
        bool moved,
        store::transition_run(app.db, run_id, store::RunStatus::cancelled, "killed by user"));
    (void)moved;
    collect_killed(app, run, host, request, state);
    core::warn_on_error(backends::cleanup_job(host, request), "backends::cleanup_job");
    return store::require_run(app.db, run_id);
}

core::Result<std::string> read_run_log(const App& app, const std::string& run_id) {
    COSMOS_TRY(auto run, store::require_run(app.db, run_id));
    fs::path local = app.run_dir(run_id) / "run.log";
    std::error_code ec;
    bool remote_live = run.status == store::RunStatus::running && run.remote_dir.has_value() &&
                       run.runtime != k_served_runtime;  // a request's log is written here
    if (remote_live) {
        COSMOS_TRY(auto found, running_remote(app, run_id));
        COSMOS_TRY(auto host, open_host(found.second));
        auto request = backends::job_request(host, run.batch_id.value_or(run_id));
        COSMOS_TRY(auto raw, host.shell->read_file(host.runtime->log_path(request)));
        return backends::normalized_log(raw);  // never a secret the model printed
    }
    if (!fs::exists(local, ec)) {
        return fail(
            ErrorCode::not_found,
            fmt::format("run {} has no log yet ({})", run_id, store::to_string(run.status)));
    }
    return core::read_file(local, core::kLogFileMax, "run log");
}

}  // namespace cosmos::scheduler
