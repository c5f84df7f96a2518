#include "services/execute_run.hpp"

#include <fmt/format.h>

#include "backends/local_backend.hpp"
#include "core/log.hpp"
#include "model/transfer_command.hpp"
#include "services/checkpoints.hpp"
#include "services/create_run.hpp"
#include "services/emulator_install.hpp"
#include "services/enhance.hpp"
#include "services/hf_token.hpp"
#include "services/remote_run.hpp"
#include "services/upscale.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;
namespace fs = std::filesystem;

core::Status ensure_host_ready(const config::HostConfig& host) {
    std::error_code ec;
    bool has_script = fs::exists(host.cosmos_dir / model::k_transfer_script, ec);
    if (host.emulated && !has_script) {
        COSMOS_TRY(auto bin, find_emulator_binary());
        core::log(
            core::LogLevel::info, "installing the emulator into {}", host.cosmos_dir.string());
        if (auto s = install_emulator(host.cosmos_dir, bin); !s) {
            return s;
        }
        return {};
    }
    if (!has_script) {
        return fail(ErrorCode::not_found,
                    fmt::format("host {}: no {} under cosmos_dir {}",
                                host.name,
                                model::k_transfer_script,
                                host.cosmos_dir.string()),
                    "point cosmos_dir at a Cosmos-Transfer1 checkout, or lay out the emulator "
                    "there with `cosmos emulator install DIR`");
    }
    return {};
}

// Before a run starts on `host` (docs/supply-chain.md): its docker image must be pinned, its
// checkpoints must not have failed their last verify (nor changed since), and the Hugging Face
// token, when configured, travels with it as a secret (the runtime's 0600 env file). Overrides
// are noted on the run's events.
core::Status check_supply_chain(const App& app,
                                const store::RunRecord& run,
                                config::HostConfig& host,
                                const ExecuteOptions& options) {
    if (host.runtime == "docker") {
        if (auto problem =
                config::image_pin_problem(host.image, fmt::format("[hosts.{}]", host.name))) {
            if (!options.allow_unpinned) {
                return fail(std::move(*problem));
            }
            if (auto s = store::add_run_note(
                    app.db,
                    run.id,
                    fmt::format("unpinned image {} allowed (--allow-unpinned)", host.image));
                !s) {
                return s;
            }
        }
    }
    if (options.skip_verify) {
        if (auto s =
                store::add_run_note(app.db, run.id, "checkpoint verify skipped (--skip-verify)");
            !s) {
            return s;
        }
    } else if (auto s = check_checkpoints_verified(app, host); !s) {
        return s;
    }
    COSMOS_TRY(auto token, huggingface_token(app.config));
    if (token && host.env.count("HF_TOKEN") == 0) {
        host.env["HF_TOKEN"] = *token;
    }
    return {};
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
    return {};
}

core::Result<store::RunRecord> execute_run(const App& app,
                                           const std::string& run_id,
                                           const ExecuteOptions& options) {
    COSMOS_TRY(auto run, store::get_run(app.db, run_id));
    if (!run) {
        return fail(ErrorCode::not_found, fmt::format("no run {}", run_id));
    }
    if (run->status != store::RunStatus::pending && run->status != store::RunStatus::queued) {
        return fail(ErrorCode::conflict,
                    fmt::format("run {} is {}; only pending runs can be started",
                                run_id,
                                store::to_string(run->status)),
                    fmt::format("create a new run: cosmos create run {}", run->prompt_id));
    }
    COSMOS_TRY(auto host,
               config::find_host(app.config, options.host.value_or(app.config.run.host)));
    if (host.kind != "local" && !config::is_remote_host(host)) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format(
                "host {} is of kind {}, which this build cannot run yet", host.name, host.kind));
    }
    if (options.detach && host.kind == "local") {
        return fail(ErrorCode::invalid_input,
                    "--detach needs an ssh host: runs on the local host end with this process",
                    "run it without --detach, or on an ssh host (cosmos hosts add)");
    }
    if (run->params.num_gpus > host.gpus) {  // a slurm host's gpus: GPUs per node
        return fail(ErrorCode::invalid_input,
                    fmt::format("run {} asks for {} GPUs but host {} has {}",
                                run_id,
                                run->params.num_gpus,
                                host.name,
                                host.gpus));
    }
    if (auto s = check_supply_chain(app, *run, host, options); !s) {
        return fail(s.error());
    }
    COSMOS_TRY(auto prompt, store::get_prompt(app.db, run->prompt_id));
    if (!prompt) {
        return fail(ErrorCode::not_found,
                    fmt::format("run {}: prompt {} is gone", run_id, run->prompt_id));
    }
    if (auto s = check_inputs_exist(*prompt); !s) {
        return store::fail_run(app.db, run_id, s.error().message);
    }
    // An upscale whose transfer runs on this slurm host right now: its job waits for that one
    // in Slurm (afterok) and reads the transfer's output where it will be written.
    COSMOS_TRY(auto chained, chained_upscale(app, *run, host));
    nlohmann::ordered_json spec;
    if (chained) {
        spec = chained->spec;
    } else {
        COSMOS_TRY(spec, run_spec(app, *prompt, *run));
    }
    if (config::is_remote_host(host)) {
        RemoteExecuteOptions remote;
        if (chained) {
            remote.after_job_dirs.push_back(chained->parent_job_dir);
        }
        remote.detach = options.detach;
        remote.gpu_ids = options.gpu_ids;
        remote.requeue_transient = options.requeue_transient;
        remote.attach.sink = options.sink;
        remote.attach.stop = options.cancel;
        remote.attach.kill_on_stop = true;
        remote.attach.mirror_log = true;
        remote.attach.on_model_end = options.on_model_end;
        remote.attach.requeue_transient = options.requeue_transient;
        return execute_remote_run(app, *run, *prompt, host, spec, remote);
    }
    if (auto s = ensure_host_ready(host); !s) {
        return store::fail_run(app.db, run_id, s.error().message);
    }

    backends::LocalJob job{run_id,
                           app.run_dir(run_id),
                           spec,
                           run->params,
                           prompt->video.frames,
                           num_steps_flag(*run),
                           run->kind,
                           options.gpu_ids};
    auto launch = backends::prepare_local_job(host, job);
    if (!launch) {
        return store::fail_run(app.db, run_id, launch.error().message);
    }
    if (auto s = store::record_launch(
            app.db,
            run_id,
            store::LaunchRecord{host.name,
                                backends::describe_launch(launch->command).dump(),
                                spec.dump(2),
                                launch->output_dir.string(),
                                launch->log_path.string()});
        !s) {
        return fail(s.error());
    }
    COSMOS_TRY(
        bool started,
        store::transition_run(
            app.db, run_id, store::RunStatus::running, fmt::format("on host {}", host.name)));
    if (!started) {
        return fail(ErrorCode::conflict, fmt::format("run {} was ended by someone else", run_id));
    }
    auto emit = [&](const backends::JobEvent& e) {
        if (const auto* p = std::get_if<backends::Progress>(&e)) {
            (void)store::record_progress(app.db, run_id, p->fraction);
        }
        if (options.sink) {
            options.sink(e);
        }
    };
    emit(backends::Launched{run_id, host.name});
    auto outcome = backends::run_local_job(job, *launch, emit, options.cancel);
    if (!outcome) {
        return store::fail_run(app.db, run_id, outcome.error().message);
    }
    if (outcome->succeeded && run->kind == "enhance") {
        if (auto adopted = adopt_enhanced_prompt(app, *run); !adopted) {
            outcome->succeeded = false;
            outcome->error = adopted.error().message;
        }
    }
    store::OutcomeRecord rec{
        outcome->exit_code,
        outcome->succeeded ? std::nullopt : std::optional<std::string>(outcome->error),
        outcome->output_video};
    if (auto s = store::record_outcome(app.db, run_id, rec); !s) {
        return fail(s.error());
    }
    store::RunStatus final_status = outcome->succeeded   ? store::RunStatus::succeeded
                                    : outcome->cancelled ? store::RunStatus::cancelled
                                                         : store::RunStatus::failed;
    COSMOS_TRY(bool ended, store::transition_run(app.db, run_id, final_status, outcome->error));
    (void)ended;
    if (outcome->succeeded) {
        emit(backends::Finished{run_id, outcome->output_video.value_or("")});
    } else {
        emit(backends::Failed{run_id, outcome->error});
    }
    COSMOS_TRY(auto final_run, store::get_run(app.db, run_id));
    return *final_run;
}

}  // namespace cosmos::services
