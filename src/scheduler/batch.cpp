// Batches of compatible runs as one model load, on any host kind (see batch.hpp).

#include "scheduler/batch.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <numeric>

#include <fmt/format.h>

#include "backends/model_launch.hpp"
#include "backends/remote_job.hpp"
#include "core/clock.hpp"
#include "core/failpoint.hpp"
#include "core/log.hpp"
#include "model/batch_file.hpp"
#include "model/family.hpp"
#include "model/model_log.hpp"
#include "scheduler/gpu_sampling.hpp"
#include "scheduler/job.hpp"
#include "scheduler/outcome.hpp"
#include "scheduler/record.hpp"
#include "scheduler/run_spec.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::scheduler {

using core::ErrorCode;
using core::fail;
namespace fs = std::filesystem;

namespace {

struct Line {
    store::RunRecord run;
    store::PromptRecord prompt;
    nlohmann::ordered_json spec;  // the run's own spec, local paths
};

// The chunks each line of a batch takes (its prompt's frames, its parameters): the batch's log
// counts them one line after another.
core::Result<std::vector<int>> line_chunks(const App& app,
                                           const std::vector<store::RunRecord>& runs) {
    std::vector<int> out;
    for (const auto& r : runs) {
        COSMOS_TRY(auto prompt, store::get_prompt(app.db, r.prompt_id));
        std::int64_t frames = prompt ? prompt->video.frames : model::k_default_frames;
        out.push_back(std::max(1, model::model_family(r.model).chunks(frames, r.params)));
    }
    return out;
}

// Makes `to` the same file as `from` (a hard link; a copy where links are impossible).
void link_file(const fs::path& from, const fs::path& to) {
    std::error_code ec;
    fs::create_directories(to.parent_path(), ec);
    fs::remove(to, ec);
    fs::create_hard_link(from, to, ec);
    if (ec) {
        fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    }
}

// Gives run `run` of the batch collected in `dir` its line's files (log, video, prompt text) in
// its own run dir; returns its output video when the line has one.
std::optional<std::string> link_line_outputs(const App& app,
                                             const fs::path& dir,
                                             const store::RunRecord& run) {
    int index = run.batch_index.value_or(0);
    fs::path run_dir = app.run_dir(run.id);
    const auto& family = model::model_family(run.model);
    fs::path video = dir / "outputs" / family.output_video(index);
    auto text = family.output_text(index);
    fs::path prompt_file = text ? dir / "outputs" / *text : fs::path();
    std::error_code ec;
    if (fs::exists(dir / "run.log", ec)) {
        link_file(dir / "run.log", run_dir / "run.log");
    }
    if (!fs::is_regular_file(video, ec) || (text && !fs::is_regular_file(prompt_file, ec))) {
        return std::nullopt;
    }
    link_file(video, run_dir / "outputs" / "output.mp4");
    if (text) {
        link_file(prompt_file, run_dir / "outputs" / "output.txt");
    }
    return (run_dir / "outputs" / "output.mp4").string();
}

// Records how batch line `run` ended (the facts common to the batch in `base`); `blame_taken`
// says whether an earlier line already took the model's failure. Adds the run to `result`.
core::Status record_line(const App& app,
                         const store::RunRecord& run,
                         const std::optional<std::string>& output,
                         scheduler::OutcomeFacts facts,
                         bool& blame_taken,
                         const backends::EventSink& sink,
                         BatchResult& result) {
    facts.has_video = output.has_value();
    facts.batch_line = run.batch_index.value_or(0);
    facts.blame_taken = blame_taken;
    auto outcome = scheduler::decide_outcome(facts);
    blame_taken = blame_taken || outcome.verdict == scheduler::Verdict::failed;
    COSMOS_TRY(bool moved, scheduler::record_end(app.db, run.id, outcome, facts.exit_code, output));
    if (moved && outcome.verdict == scheduler::Verdict::requeue) {
        result.requeued.push_back(run.id);
    } else if (moved && sink) {
        if (outcome.verdict == scheduler::Verdict::succeeded) {
            sink(backends::Finished{run.id, output.value_or("")});
        } else {
            sink(backends::Failed{run.id, outcome.error});
        }
    }
    COSMOS_TRY(auto now, store::require_run(app.db, run.id));
    result.runs.push_back(std::move(now));
    return {};
}

// Brings the batch's log and outputs home, gives each run its line's files and records each
// run's outcome (see batch.hpp for the rules).
core::Result<BatchResult> finish_batch(const App& app,
                                       const std::string& batch_id,
                                       const std::vector<store::RunRecord>& runs,
                                       const backends::RemoteHost& host,
                                       const runtime::Observed& state,
                                       const backends::EventSink& sink,
                                       bool cancelled) {
    fs::path dir = batch_dir(app, batch_id);
    auto request = backends::job_request(host, batch_id);
    auto collected = backends::collect_job(host, request, dir);
    if (!collected) {
        // Nothing is lost: the outputs stay in the job dir, the runs stay `running`.
        return fail(collected.error().code,
                    fmt::format("batch {} ended but collecting its outputs failed: {}",
                                batch_id,
                                collected.error().message));
    }
    bool clean_end = state.state == runtime::ProcessState::exited && state.exit_code == 0;
    auto disk_full = clean_end ? std::nullopt : backends::disk_full_note(host, request);
    core::warn_on_error(backends::cleanup_job(host, request), "backends::cleanup_job");
    COSMOS_TRY(auto chunks, line_chunks(app, runs));
    auto tracker = scan_log(dir / "run.log",
                            model::model_family(runs.front().model)
                                .log_reader(std::accumulate(chunks.begin(), chunks.end(), 0)));
    auto base = scheduler::outcome_facts(state, tracker, host.config.name);
    base.cancelled = cancelled;
    base.disk_full = disk_full;
    double run_seconds = core::seconds_since_iso(runs.front().started_at);
    double share = 1.0 / static_cast<double>(runs.size());
    bool blame_taken = false;
    BatchResult result;
    for (const auto& before : runs) {
        COSMOS_TRY(auto run, store::require_run(app.db, before.id));
        auto output = link_line_outputs(app, dir, run);
        // Each line's share of the one model load: the batch's GPU time split evenly.
        COSMOS_CHECK(store::record_costs(
            app.db,
            run.id,
            store::CostRecord{std::nullopt,
                              std::nullopt,
                              run_seconds,
                              collected->download_seconds * share,
                              run_seconds * runs.front().params.num_gpus * share,
                              host.config.price_per_gpu_hour}));
        if (store::is_terminal(run.status)) {
            result.runs.push_back(run);  // cancelled on its own while the batch ran
            continue;
        }
        COSMOS_CHECK(record_line(app, run, output, base, blame_taken, sink, result));
        core::failpoint("split");
    }
    return result;
}

}  // namespace

fs::path batch_dir(const App& app, const std::string& batch_id) {
    return app.data_dir() / "batches" / batch_id;
}

namespace {

// The runs of a batch that can join it, with their prompts and specs; a run whose prompt or
// inputs are gone fails on its own (in `result`). Fails with conflict for a run not queued.
core::Result<std::vector<Line>> load_lines(const App& app,
                                           const std::vector<std::string>& run_ids,
                                           BatchResult& result) {
    std::vector<Line> lines;
    for (const auto& id : run_ids) {
        COSMOS_TRY(auto run, store::require_run(app.db, id));
        if (run.status != store::RunStatus::pending && run.status != store::RunStatus::queued) {
            return fail(ErrorCode::conflict,
                        fmt::format("run {} is {}; only queued runs join a batch",
                                    id,
                                    store::to_string(run.status)));
        }
        COSMOS_TRY(auto prompt, store::get_prompt(app.db, run.prompt_id));
        auto missing = prompt ? check_inputs_exist(*prompt)
                              : core::Status(fail(ErrorCode::not_found,
                                                  fmt::format("prompt {} is gone", run.prompt_id)));
        if (!missing) {
            COSMOS_TRY(auto now, store::fail_run(app.db, id, missing.error().message));
            result.runs.push_back(std::move(now));
            continue;
        }
        COSMOS_TRY(auto spec, run_spec(app, *prompt, run));
        lines.push_back(Line{std::move(run), std::move(*prompt), std::move(spec)});
    }
    return lines;
}

// The batch as one remote job: the batch spec and a line per run, every input staged once.
core::Result<backends::RemoteJobSpec> batch_job(const App& app,
                                                const std::string& batch_id,
                                                const std::vector<Line>& lines,
                                                const BatchOptions& options) {
    const auto& family = model::model_family(lines.front().run.model);
    std::vector<model::BatchFacts> facts;
    for (const auto& l : lines) {
        facts.push_back(model::BatchFacts{l.run.kind,
                                          l.spec,
                                          l.run.params,
                                          l.prompt.video.width,
                                          l.prompt.video.height,
                                          l.prompt.video.frames});
    }
    backends::RemoteJobSpec job;
    COSMOS_TRY(job.spec, family.batch_spec(facts));
    job.run_id = batch_id;
    job.family = lines.front().run.model;
    job.kind = core::RunKind::transfer;
    job.local_run_dir = batch_dir(app, batch_id);
    job.params = lines.front().run.params;
    job.frames = lines.front().prompt.video.frames;
    job.gpu_ids = options.gpu_ids;
    for (const auto& l : lines) {
        spec_inputs(l.spec, job.inputs);
        job.batch_lines.push_back(
            family.batch_line(l.spec, static_cast<int>(job.batch_lines.size())));
    }
    return job;
}

// Ends every line with `why`: back to the queue when the host or network was at fault, else
// failed (best effort: the original error is what the caller returns).
void end_lines(const App& app, const std::vector<Line>& lines, const core::Error& why) {
    for (const auto& l : lines) {
        if (is_transient(why)) {
            core::warn_on_error(
                store::transition_run(app.db,
                                      l.run.id,
                                      store::RunStatus::queued,
                                      fmt::format("staging interrupted: {}", why.message)),
                "store::transition_run");
        } else {
            core::warn_on_error(store::fail_run(app.db, l.run.id, why.message), "store::fail_run");
        }
    }
}

// Stages the batch and keeps the batch's spec and file at home.
core::Result<backends::StagedJob> stage_batch(const backends::RemoteHost& host,
                                              const backends::RemoteJobSpec& job,
                                              const BatchOptions& options) {
    backends::StageProgressFn progress;
    if (options.sink) {
        progress = [&](const std::string& file, std::uint64_t done, std::uint64_t total) {
            options.sink(backends::Transfer{job.run_id, "upload", file, done, total});
        };
    }
    COSMOS_TRY(auto staged, stage_with_reconnect(host, job, progress));
    std::error_code ec;
    fs::create_directories(job.local_run_dir, ec);
    std::ofstream(job.local_run_dir / "spec.json") << staged.remote_spec.dump(2) << "\n";
    std::ofstream batch_file(job.local_run_dir / "batch.jsonl");
    for (const auto& line : staged.remote_batch_lines) {
        batch_file << line.dump() << "\n";
    }
    return staged;
}

// Records on each run how its batch is launched: the command, its effective spec, the job dir,
// its line and its share of the staging.
core::Status record_batch_launch(const App& app,
                                 const std::string& batch_id,
                                 const std::vector<Line>& lines,
                                 const backends::RemoteHost& host,
                                 const backends::StagedJob& staged) {
    auto command = backends::describe_launch(staged.request.command);
    command["runtime"] = host.runtime->name();
    command["runtime_argv"] = host.runtime->launch_command(staged.request);
    auto image = backends::image_identity(host);
    auto count = static_cast<std::uint64_t>(lines.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto& run = lines[i].run;
        fs::path run_dir = app.run_dir(run.id);
        std::error_code ec;
        fs::create_directories(run_dir, ec);
        auto spec = model::model_family(run.model).effective_spec(staged.remote_spec,
                                                                  staged.remote_batch_lines[i]);
        std::ofstream(run_dir / "spec.json") << spec.dump(2) << "\n";
        COSMOS_CHECK(store::record_launch(app.db,
                                          run.id,
                                          store::LaunchRecord{host.config.name,
                                                              command.dump(),
                                                              spec.dump(2),
                                                              (run_dir / "outputs").string(),
                                                              (run_dir / "run.log").string()}));
        COSMOS_CHECK(store::record_remote(
            app.db,
            run.id,
            store::RemoteRecord{host.runtime->name(), staged.request.job_dir, image}));
        COSMOS_CHECK(store::record_batch(app.db, run.id, batch_id, static_cast<int>(i)));
        COSMOS_CHECK(store::record_costs(
            app.db,
            run.id,
            store::CostRecord{static_cast<std::int64_t>(staged.uploaded_bytes / count),
                              staged.upload_seconds / static_cast<double>(count),
                              std::nullopt,
                              std::nullopt}));
    }
    return {};
}

// Moves every line to `status` with `detail`.
core::Status mark_lines(const App& app,
                        const std::vector<Line>& lines,
                        store::RunStatus status,
                        const std::string& detail) {
    for (const auto& l : lines) {
        COSMOS_CHECK(store::transition_run(app.db, l.run.id, status, detail));
    }
    return {};
}

}  // namespace

core::Result<BatchResult> execute_batch(const App& app,
                                        const std::string& batch_id,
                                        const std::vector<std::string>& run_ids,
                                        const BatchOptions& options) {
    if (run_ids.empty()) {
        return fail(ErrorCode::invalid_input, "a batch needs at least one run");
    }
    COSMOS_TRY(auto host_config, config::find_host(app.config, options.host));
    if (options.preflight.host) {
        COSMOS_CHECK(options.preflight.host(host_config));  // nothing changed: runs stay queued
    }
    BatchResult result;
    COSMOS_TRY(auto lines, load_lines(app, run_ids, result));
    if (lines.empty()) {
        return result;
    }
    COSMOS_TRY(auto job, batch_job(app, batch_id, lines, options));
    if (options.preflight.runs) {
        if (auto s = options.preflight.runs(lines.front().run, host_config); !s) {
            end_lines(app, lines, s.error());
            return fail(s.error());
        }
    }
    COSMOS_TRY(auto host, open_host(host_config));
    // Reachable, with the model's checkout and launcher (one round trip); otherwise nothing
    // changed: the runs stay queued (refused or unreachable).
    COSMOS_CHECK(backends::check_host_ready(host, model::model_family(job.family)));
    COSMOS_CHECK(
        mark_lines(app,
                   lines,
                   store::RunStatus::running,
                   fmt::format("staging batch {} on host {}", batch_id, host_config.name)));
    auto staged = stage_batch(host, job, options);
    if (!staged) {
        end_lines(app, lines, staged.error());
        return fail(staged.error());
    }
    COSMOS_CHECK(record_batch_launch(app, batch_id, lines, host, *staged));
    for (const auto& l : lines) {
        COSMOS_CHECK(
            store::record_gpu_ids(app.db, l.run.id, held_gpus(job.gpu_ids, l.run.params.num_gpus)));
    }
    if (auto s = launch_with_reconnect(host, staged->request); !s) {
        core::warn_on_error(backends::collect_job(host, staged->request, job.local_run_dir),
                            "backends::collect_job");
        end_lines(app, lines, core::Error{ErrorCode::remote_failed, s.error().message, {}});
        COSMOS_TRY(auto runs, store::batch_runs(app.db, batch_id));
        result.runs.insert(result.runs.end(), runs.begin(), runs.end());
        return result;
    }
    core::failpoint("launch");
    COSMOS_CHECK(mark_lines(
        app,
        lines,
        store::RunStatus::running,
        fmt::format("launched as line of batch {} on host {}", batch_id, host_config.name)));
    for (const auto& l : lines) {
        if (options.sink) {
            options.sink(backends::Launched{l.run.id, host_config.name});
        }
    }
    COSMOS_TRY(auto attached, attach_batch(app, batch_id, options));
    result.runs.insert(result.runs.end(), attached.runs.begin(), attached.runs.end());
    result.requeued = std::move(attached.requeued);
    return result;
}

core::Result<BatchResult> attach_batch(const App& app,
                                       const std::string& batch_id,
                                       const BatchOptions& options) {
    COSMOS_TRY(auto runs, store::batch_runs(app.db, batch_id));
    if (runs.empty()) {
        return fail(ErrorCode::not_found, fmt::format("no runs in batch {}", batch_id));
    }
    if (!runs.front().host) {
        return fail(ErrorCode::conflict, fmt::format("batch {} never started on a host", batch_id));
    }
    COSMOS_TRY(auto host_config, config::find_host(app.config, *runs.front().host));
    COSMOS_TRY(auto host, open_host(host_config));
    auto request = backends::job_request(host, batch_id);
    COSMOS_TRY(auto chunks, line_chunks(app, runs));
    auto n = static_cast<int>(runs.size());
    std::vector<double> shown(runs.size(), -1);
    auto emit = [&](const backends::JobEvent& e) {
        if (const auto* p = std::get_if<backends::Progress>(&e)) {
            core::failpoint("watch");
            // The batch's chunks are its lines' chunks one after another (batch size 1).
            int before = 0;
            for (int i = 0; i < n; ++i) {
                int own = chunks[static_cast<std::size_t>(i)];
                int done = std::clamp(p->chunk - before, 0, own);
                before += own;
                double f = static_cast<double>(done) / own;
                if (f != shown[static_cast<std::size_t>(i)] &&
                    !store::is_terminal(runs[static_cast<std::size_t>(i)].status)) {
                    shown[static_cast<std::size_t>(i)] = f;
                    core::warn_on_error(
                        store::record_progress(app.db, runs[static_cast<std::size_t>(i)].id, f),
                        "store::record_progress");
                    if (options.sink) {
                        options.sink(backends::Progress{
                            runs[static_cast<std::size_t>(i)].id, f, done, own, p->phase});
                    }
                }
            }
            return;
        }
        if (options.sink) {
            options.sink(e);
        }
    };
    auto watched =
        backends::watch_job(host,
                            request,
                            model::model_family(runs.front().model)
                                .log_reader(std::accumulate(chunks.begin(), chunks.end(), 0)),
                            batch_dir(app, batch_id) / "run.log",
                            emit,
                            options.stop);
    runtime::Observed state;
    bool cancelled = false;
    if (watched) {
        state = watched->final_state;
    } else if (watched.error().code == ErrorCode::interrupted && options.kill_on_stop) {
        if (auto s = backends::kill_job(host, request); !s) {
            return fail(s.error());
        }
        COSMOS_TRY(state, backends::observe_job(host, request));
        cancelled = true;
    } else {
        return fail(watched.error());
    }
    if (options.on_model_end) {
        options.on_model_end();
    }
    return finish_batch(app, batch_id, runs, host, state, options.sink, cancelled);
}

core::Result<store::RunRecord> cancel_batch_run(const App& app, const std::string& run_id) {
    COSMOS_TRY(auto run, store::require_run(app.db, run_id));
    if (!run.batch_id || run.status != store::RunStatus::running) {
        return fail(ErrorCode::conflict, fmt::format("run {} is not running in a batch", run_id));
    }
    COSMOS_CHECK(store::record_outcome(
        app.db,
        run_id,
        store::OutcomeRecord{std::nullopt, std::string("cancelled by user"), std::nullopt}));
    COSMOS_TRY(
        bool moved,
        store::transition_run(app.db, run_id, store::RunStatus::cancelled, "cancelled by user"));
    (void)moved;
    COSMOS_TRY(auto runs, store::batch_runs(app.db, *run.batch_id));
    bool others_live = std::any_of(runs.begin(), runs.end(), [](const store::RunRecord& r) {
        return !store::is_terminal(r.status);
    });
    if (!others_live && run.host) {
        // The last live line of the batch: stop the model. Its follower collects what exists.
        COSMOS_TRY(auto host_config, config::find_host(app.config, *run.host));
        COSMOS_TRY(auto host, open_host(host_config));
        if (auto s = backends::kill_job(host, backends::job_request(host, *run.batch_id)); !s) {
            return fail(s.error());
        }
    }
    return store::require_run(app.db, run_id);
}

}  // namespace cosmos::scheduler
