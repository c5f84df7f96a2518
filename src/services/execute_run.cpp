#include "services/execute_run.hpp"

#include <map>

#include <fmt/format.h>

#include "core/ids.hpp"
#include "core/log.hpp"
#include "model/family.hpp"
#include "scheduler/batch.hpp"
#include "scheduler/job.hpp"
#include "scheduler/placement.hpp"
#include "scheduler/run_spec.hpp"
#include "scheduler/served_job.hpp"
#include "services/checkpoints.hpp"
#include "services/create_run.hpp"
#include "services/emulator_install.hpp"
#include "services/enhance.hpp"
#include "services/hf_token.hpp"
#include "services/queue.hpp"
#include "services/upscale.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;
namespace fs = std::filesystem;

core::Status ensure_host_ready(const config::HostConfig& host) {
    std::error_code ec;
    std::vector<std::string> missing;
    for (model::Family f : model::k_families) {
        const auto& family = model::model_family(f);
        if (family.served()) {
            continue;  // a server, not a script under the checkout
        }
        auto it = host.checkouts.find(f);
        fs::path checkout = it == host.checkouts.end() ? host.cosmos_dir : it->second;
        if (!fs::exists(checkout / family.entry_point(), ec)) {
            missing.push_back((checkout / family.entry_point()).string());
        }
    }
    if (missing.empty()) {
        return {};
    }
    if (host.emulated) {  // laid out by an older cosmos, or never: (re)install, idempotent
        COSMOS_TRY(auto bin, find_emulator_binary());
        core::log(
            core::LogLevel::info, "installing the emulator into {}", host.cosmos_dir.string());
        return install_emulator(host.cosmos_dir, bin);
    }
    return fail(ErrorCode::not_found,
                fmt::format("host {}: no {}", host.name, missing.front()),
                "point cosmos_dir at the model's checkout, or lay out the emulator there with "
                "`cosmos emulator install DIR`");
}

scheduler::Preflight preflight(const App& app, const ExecuteOptions& options) {
    scheduler::Preflight p;
    p.host = [](const config::HostConfig& host) {
        return host.emulated ? ensure_host_ready(host) : core::Status{};
    };
    p.runs = [&app, skip_verify = options.skip_verify, allow_unpinned = options.allow_unpinned](
                 const store::RunRecord& first, config::HostConfig& host) {
        ExecuteOptions supply;
        supply.skip_verify = skip_verify;
        supply.allow_unpinned = allow_unpinned;
        return check_supply_chain(app, first, host, supply);
    };
    return p;
}

core::Status check_supply_chain(const App& app,
                                const store::RunRecord& run,
                                config::HostConfig& host,
                                const ExecuteOptions& options) {
    if (host.runtime == core::RuntimeKind::docker) {
        if (auto problem = config::image_pin_problem(host.container.image,
                                                     fmt::format("[hosts.{}]", host.name))) {
            if (!options.allow_unpinned) {
                return fail(std::move(*problem));
            }
            if (auto s =
                    store::add_run_note(app.db,
                                        run.id,
                                        fmt::format("unpinned image {} allowed (--allow-unpinned)",
                                                    host.container.image));
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
    if (run->params.num_gpus > host.gpus) {  // a slurm host's gpus: GPUs per node
        return fail(ErrorCode::invalid_input,
                    fmt::format("run {} asks for {} GPUs but host {} has {}",
                                run_id,
                                run->params.num_gpus,
                                host.name,
                                host.gpus));
    }
    COSMOS_CHECK(scheduler::check_host_runs(host, run->model));
    bool served = model::model_family(run->model).served();
    // The supply chain (image pin, checkpoint verify, HF token) is the server's own business.
    if (auto s = served ? core::Status{} : check_supply_chain(app, *run, host, options); !s) {
        return fail(s.error());
    }
    COSMOS_TRY(auto prompt, store::get_prompt(app.db, run->prompt_id));
    if (!prompt) {
        return fail(ErrorCode::not_found,
                    fmt::format("run {}: prompt {} is gone", run_id, run->prompt_id));
    }
    // Refusals leave the run as it was (pending or queued): nothing ran, so nothing is recorded
    // (docs/errors.md). A caller that created the run for this command removes it.
    COSMOS_CHECK(scheduler::check_inputs_exist(*prompt));
    // An upscale whose transfer runs on this slurm host right now: its job waits for that one
    // in Slurm (afterok) and reads the transfer's output where it will be written.
    COSMOS_TRY(auto chained, scheduler::chained_upscale(app, *run, host));
    nlohmann::ordered_json spec;
    if (chained) {
        spec = chained->spec;
    } else {
        COSMOS_TRY(spec, scheduler::run_spec(app, *prompt, *run));
    }
    // The embedded default host installs the emulator on first use; other hosts are checked
    // where they are (a remote checkout is probed by the model's first command).
    if (host.emulated) {
        COSMOS_CHECK(ensure_host_ready(host));
    }
    scheduler::RemoteExecuteOptions remote;
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
    if (served) {
        return scheduler::execute_served_run(app, *run, host, spec, remote);
    }
    return scheduler::execute_remote_run(app, *run, *prompt, host, spec, remote);
}

namespace {

// The runs of `run_ids` in units that each take one model load: a batch of compatible runs
// (at most max_batch, in the order given) or a single run.
core::Result<std::vector<std::vector<std::string>>> load_units(
    const App& app, const std::vector<std::string>& run_ids, int max_batch) {
    std::vector<std::vector<std::string>> units;
    std::map<std::string, std::size_t> open;  // batch key -> its unit still taking lines
    for (const auto& id : run_ids) {
        COSMOS_TRY(auto run, store::require_run(app.db, id));
        auto key = batch_key_of(app, run);
        if (key) {
            auto it = open.find(*key);
            if (it != open.end() &&
                units[it->second].size() < static_cast<std::size_t>(max_batch)) {
                units[it->second].push_back(id);
                continue;
            }
            open[*key] = units.size();
        }
        units.push_back({id});
    }
    return units;
}

// One batch of the foreground: checked like a single run (GPUs), then run as one model load.
core::Result<std::vector<store::RunRecord>> execute_unit_batch(const App& app,
                                                               const std::vector<std::string>& ids,
                                                               const ExecuteOptions& options) {
    COSMOS_TRY(auto host,
               config::find_host(app.config, options.host.value_or(app.config.run.host)));
    for (const auto& id : ids) {
        COSMOS_TRY(auto run, store::require_run(app.db, id));
        if (run.params.num_gpus > host.gpus) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("run {} asks for {} GPUs but host {} has {}",
                                    id,
                                    run.params.num_gpus,
                                    host.name,
                                    host.gpus));
        }
    }
    scheduler::BatchOptions batch;
    batch.host = host.name;
    batch.gpu_ids = options.gpu_ids;
    batch.stop = options.cancel;
    batch.kill_on_stop = true;
    batch.sink = options.sink;
    batch.on_model_end = options.on_model_end;
    batch.preflight = preflight(app, options);
    COSMOS_TRY(auto result,
               scheduler::execute_batch(app, core::new_id(core::IdKind::batch), ids, batch));
    for (const auto& id : result.requeued) {
        // No queue owns a foreground run: a line that never ran waits for `cosmos run`.
        COSMOS_CHECK(store::transition_run(
            app.db,
            id,
            store::RunStatus::pending,
            fmt::format("its batch ended before it ran: run it again with `cosmos run {}`", id)));
    }
    std::vector<store::RunRecord> out;
    for (const auto& id : ids) {
        COSMOS_TRY(auto run, store::require_run(app.db, id));
        out.push_back(std::move(run));
    }
    return out;
}

}  // namespace

core::Result<std::vector<store::RunRecord>> execute_runs(const App& app,
                                                         const std::vector<std::string>& run_ids,
                                                         const ExecuteOptions& options,
                                                         int max_batch) {
    std::vector<std::vector<std::string>> units;
    if (options.detach || max_batch <= 1) {
        for (const auto& id : run_ids) {
            units.push_back({id});
        }
    } else {
        COSMOS_TRY(units, load_units(app, run_ids, max_batch));
    }
    std::map<std::string, store::RunRecord> ended;
    for (const auto& unit : units) {
        if (options.cancel != nullptr && options.cancel->load()) {
            break;
        }
        if (unit.size() == 1) {
            COSMOS_TRY(auto run, execute_run(app, unit.front(), options));
            ended[run.id] = std::move(run);
            continue;
        }
        COSMOS_TRY(auto runs, execute_unit_batch(app, unit, options));
        for (auto& run : runs) {
            ended[run.id] = std::move(run);
        }
    }
    std::vector<store::RunRecord> out;
    for (const auto& id : run_ids) {
        if (auto it = ended.find(id); it != ended.end()) {
            out.push_back(std::move(it->second));
        }
    }
    return out;
}

}  // namespace cosmos::services
