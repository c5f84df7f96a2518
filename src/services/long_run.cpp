// Parallel-mode long runs: windows as child runs, stitched into the parent (see long_run.hpp).

#include "services/long_run.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "core/guard.hpp"
#include "core/log.hpp"
#include "core/names.hpp"
#include "services/create_prompt.hpp"
#include "store/prompt_store.hpp"
#include "store/run_links.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

namespace {

// Ends the parent run in `status` with `error` and returns its final record.
core::Result<store::RunRecord> end_parent(const App& app,
                                          const std::string& id,
                                          store::RunStatus status,
                                          const std::optional<std::string>& error,
                                          const std::optional<std::string>& output) {
    if (auto s = store::record_outcome(app.db,
                                       id,
                                       store::OutcomeRecord{status == store::RunStatus::succeeded
                                                                ? std::optional<std::int64_t>(0)
                                                                : std::nullopt,
                                                            error,
                                                            output});
        !s) {
        return fail(s.error());
    }
    COSMOS_TRY(bool moved, store::transition_run(app.db, id, status, error.value_or("")));
    (void)moved;
    COSMOS_TRY(auto run, store::get_run(app.db, id));
    return *run;
}

std::string window_name(const std::string& base, std::size_t index) {
    std::string suffix = fmt::format("_w{:03}", index);
    std::string head = base.substr(0, 50 - suffix.size());
    return head + suffix;
}

// How many windows of a long run on `host_name` run at once: on a slurm host as many as it
// keeps jobs in flight (Slurm places them; submitted together they become one job array),
// elsewhere one at a time (a foreground run there has no scheduler to share the GPUs with).
std::size_t window_concurrency(const App& app,
                               const std::optional<std::string>& host_name,
                               std::size_t windows) {
    auto host = config::find_host(app.config, host_name.value_or(app.config.run.host));
    if (!host || host->kind != core::HostKind::slurm) {
        return 1;
    }
    return std::min(static_cast<std::size_t>(std::max(1, host->slurm.max_in_flight)), windows);
}

// Executes the window runs `children`, concurrently where the host allows, and returns each
// one's final record (nullopt: never started, because the user cancelled or another window
// failed first; such a run is cancelled). A failed or cancelled window stops the others: the
// parent fails anyway. Events reach req.execute.sink one at a time.
core::Result<std::vector<std::optional<store::RunRecord>>> execute_windows(
    const App& app,
    const LongRunRequest& req,
    const std::vector<store::RunRecord>& children,
    const std::string& parent_id) {
    std::vector<std::optional<store::RunRecord>> finished(children.size());
    std::vector<std::optional<core::Error>> errors(children.size());
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> ended{0};
    std::mutex sink_mutex;
    ExecuteOptions options = req.execute;
    options.cancel = &stop;
    if (req.execute.sink) {
        options.sink = [&sink_mutex, &req](const backends::JobEvent& e) {
            std::lock_guard lock(sink_mutex);
            req.execute.sink(e);
        };
    }
    auto user_cancelled = [&req] {
        return req.execute.cancel != nullptr && req.execute.cancel->load();
    };
    auto work = [&](const App& a) {
        for (std::size_t i = next++; i < children.size(); i = next++) {
            if (stop.load() || user_cancelled()) {
                stop = true;
                core::warn_on_error(
                    store::transition_run(a.db,
                                          children[i].id,
                                          store::RunStatus::cancelled,
                                          "the long run stopped before this window started"),
                    "store::transition_run");
                continue;
            }
            auto done = execute_run(a, children[i].id, options);
            if (!done) {
                errors[i] = done.error();
                stop = true;
            } else {
                if (done->status != store::RunStatus::succeeded) {
                    stop = true;
                }
                finished[i] = *done;
            }
            core::warn_on_error(
                store::record_progress(
                    a.db,
                    parent_id,
                    static_cast<double>(++ended) / static_cast<double>(children.size() + 1)),
                "store::record_progress");
        }
    };
    std::size_t threads = window_concurrency(app, req.execute.host, children.size());
    if (threads <= 1) {
        work(app);
    } else {
        std::vector<std::thread> pool;
        std::atomic<bool> all_done{false};
        // The user's cancel (Ctrl-C) reaches every window through `stop`.
        std::thread watch([&] {
            while (!all_done.load()) {
                if (user_cancelled()) {
                    stop = true;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
        });
        for (std::size_t t = 0; t < threads; ++t) {
            pool.emplace_back([&] {
                auto db = store::Database::open(app.db.path());  // a connection per thread
                if (!db) {
                    stop = true;
                    return;
                }
                App own{app.config, std::move(*db)};
                if (!core::guarded("a long-run window thread", [&] { work(own); })) {
                    stop = true;
                }
            });
        }
        for (auto& t : pool) {
            t.join();
        }
        all_done = true;
        watch.join();
    }
    for (std::size_t i = 0; i < children.size(); ++i) {
        if (errors[i]) {
            return fail(ErrorCode::remote_failed,
                        fmt::format("window {} ({}): {}", i, children[i].id, errors[i]->message),
                        errors[i]->hint);
        }
    }
    return finished;
}

}  // namespace

core::Result<LongRunResult> run_parallel(const App& app, const LongRunRequest& req) {
    COSMOS_TRY(auto prompt, store::get_prompt(app.db, req.prompt_id));
    if (!prompt) {
        return fail(ErrorCode::not_found, fmt::format("no prompt {}", req.prompt_id));
    }
    COSMOS_TRY(auto windows, media::plan_windows(prompt->video.frames, req.window, req.overlap));
    (void)windows;
    LongRunResult result;
    // The parent stands for the whole video; it is validated like any run but never launched.
    COSMOS_TRY(result.parent, create_run(app, prompt->id, req.options));
    const std::string parent_id = result.parent.id;
    COSMOS_TRY(
        bool started,
        store::transition_run(
            app.db,
            parent_id,
            store::RunStatus::running,
            fmt::format("parallel: windows of {} frames, overlap {}", req.window, req.overlap)));
    (void)started;
    auto fail_parent = [&](const std::string& why) -> core::Result<LongRunResult> {
        COSMOS_TRY(result.parent, end_parent(app, parent_id, store::RunStatus::failed, why, {}));
        return result;
    };

    ChunkRequest chunk;
    chunk.input = prompt->input_dir;
    chunk.output_dir = app.run_dir(parent_id) / "windows";
    chunk.window = req.window;
    chunk.overlap = req.overlap;
    chunk.cancel = req.execute.cancel;
    auto chunks = chunk_input(chunk);
    if (!chunks) {
        return fail_parent(fmt::format("cutting the windows failed: {}", chunks.error().message));
    }
    result.chunks_manifest = chunks->manifest;

    // Create every window's prompt and run before starting any.
    std::vector<store::RunRecord> children;
    for (const auto& c : chunks->chunks) {
        CreatePromptRequest cp;
        cp.text = prompt->prompt;
        cp.negative = prompt->negative_prompt;
        cp.input_dir = c.path;
        cp.name = window_name(prompt->name, static_cast<std::size_t>(c.index));
        cp.parent_id = prompt->id;
        auto child_prompt = create_prompt(app, cp);
        if (!child_prompt) {
            return fail_parent(fmt::format(
                "window {}: cannot create its prompt: {}", c.index, child_prompt.error().message));
        }
        auto run = create_run(app, child_prompt->id, req.options);
        if (!run) {
            return fail_parent(
                fmt::format("window {}: cannot create its run: {}", c.index, run.error().message));
        }
        if (auto s = store::set_run_parent(app.db, run->id, parent_id); !s) {
            return fail(s.error());
        }
        children.push_back(*run);
    }

    auto finished_or = execute_windows(app, req, children, parent_id);
    if (!finished_or) {
        return fail_parent(finished_or.error().message);
    }
    auto& finished = *finished_or;
    std::vector<fs::path> outputs;
    std::optional<std::size_t> failed;     // the first window that failed
    std::optional<std::size_t> cancelled;  // the first window cancelled or never started
    for (std::size_t i = 0; i < children.size(); ++i) {
        if (finished[i]) {
            result.children.push_back(*finished[i]);
        }
        if (!finished[i] || finished[i]->status == store::RunStatus::cancelled) {
            cancelled = cancelled.value_or(i);
        } else if (finished[i]->status != store::RunStatus::succeeded ||
                   !finished[i]->output_video) {
            failed = failed.value_or(i);
        } else {
            outputs.emplace_back(*finished[i]->output_video);
        }
    }
    if (failed || cancelled) {
        std::size_t i = failed.value_or(*cancelled);
        std::string why;
        if (!finished[i]) {
            why = fmt::format("cancelled before window {}", i);
        } else {
            why = fmt::format("window {} ({}) {}: {}",
                              i,
                              finished[i]->id,
                              store::to_string(finished[i]->status),
                              finished[i]->error.value_or("no output video"));
        }
        COSMOS_TRY(result.parent,
                   end_parent(app,
                              parent_id,
                              failed ? store::RunStatus::failed : store::RunStatus::cancelled,
                              why,
                              {}));
        return result;
    }

    StitchRequest st;
    st.parts = outputs;
    st.manifest = chunks->manifest;
    st.output = app.run_dir(parent_id) / "output.mp4";
    st.fps = static_cast<int>(result.parent.params.fps);
    st.cancel = req.execute.cancel;
    auto stitched = stitch_parts(st);
    if (!stitched) {
        return fail_parent(fmt::format("stitching failed: {}", stitched.error().message));
    }
    COSMOS_TRY(
        result.parent,
        end_parent(app, parent_id, store::RunStatus::succeeded, std::nullopt, st.output.string()));
    COSMOS_CHECK(store::record_progress(app.db, parent_id, 1.0));
    COSMOS_TRY(auto final_parent, store::get_run(app.db, parent_id));
    result.parent = *final_parent;
    return result;
}

}  // namespace cosmos::services
