// Parallel-mode long runs: windows as child runs, stitched into the parent (see long_run.hpp).

#include "services/long_run.hpp"

#include <system_error>

#include <fmt/format.h>

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

    std::vector<fs::path> outputs;
    for (std::size_t i = 0; i < children.size(); ++i) {
        if (req.execute.cancel != nullptr && req.execute.cancel->load()) {
            COSMOS_TRY(result.parent,
                       end_parent(app,
                                  parent_id,
                                  store::RunStatus::cancelled,
                                  fmt::format("cancelled before window {}", i),
                                  {}));
            return result;
        }
        auto done = execute_run(app, children[i].id, req.execute);
        if (!done) {
            return fail_parent(
                fmt::format("window {} ({}): {}", i, children[i].id, done.error().message));
        }
        result.children.push_back(*done);
        (void)store::record_progress(
            app.db,
            parent_id,
            static_cast<double>(i + 1) / static_cast<double>(children.size() + 1));
        if (done->status != store::RunStatus::succeeded || !done->output_video) {
            auto status = done->status == store::RunStatus::cancelled ? store::RunStatus::cancelled
                                                                      : store::RunStatus::failed;
            COSMOS_TRY(result.parent,
                       end_parent(app,
                                  parent_id,
                                  status,
                                  fmt::format("window {} ({}) {}: {}",
                                              i,
                                              done->id,
                                              store::to_string(done->status),
                                              done->error.value_or("no output video")),
                                  {}));
            return result;
        }
        outputs.emplace_back(*done->output_video);
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
    (void)store::record_progress(app.db, parent_id, 1.0);
    COSMOS_TRY(auto final_parent, store::get_run(app.db, parent_id));
    result.parent = *final_parent;
    return result;
}

}  // namespace cosmos::services
