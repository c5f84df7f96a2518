// A queue worker (see worker.hpp): one thread per running job, leases renewed by the main loop.

#include "services/worker.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include <unistd.h>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "services/execute_run.hpp"
#include "services/queue.hpp"
#include "services/remote_run.hpp"
#include "store/queue_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;

namespace {

struct Active {
    store::JobRecord job;
    std::thread thread;
    std::atomic<bool> cancel{false};
    std::atomic<bool> done{false};
};

struct Shared {
    const WorkerOptions& options;
    std::string owner;
    std::mutex note_mutex;

    void note(const std::string& line) {
        if (options.note) {
            std::lock_guard<std::mutex> lock(note_mutex);
            options.note(line);
        }
    }
};

store::JobState state_of(store::RunStatus s) {
    switch (s) {
        case store::RunStatus::succeeded:
            return store::JobState::done;
        case store::RunStatus::cancelled:
            return store::JobState::cancelled;
        default:
            return store::JobState::failed;
    }
}

// Ends the job after its run reached a terminal state.
void finish(const App& app,
            Shared& shared,
            const store::JobRecord& job,
            const store::RunRecord& run) {
    auto state = state_of(run.status);
    if (auto s = store::complete_job(app.db, job.id, shared.owner, state, run.error.value_or(""));
        !s) {
        core::log(core::LogLevel::warn, "{}", s.error().message);
    }
    shared.note(fmt::format("{} {} {}{}",
                            run.id,
                            store::to_string(run.status),
                            job.host.value_or("-"),
                            run.error ? " " + *run.error : std::string()));
}

// Handles a failure that is not the run's own outcome: transient ones go back to the queue with
// backoff (and the host is skipped for a while), permanent ones fail the run and the job.
void handle_error(const App& app,
                  Shared& shared,
                  const store::JobRecord& job,
                  const core::Error& e) {
    auto run = store::get_run(app.db, job.run_id);
    if (run && *run && store::is_terminal((*run)->status)) {
        finish(app, shared, job, **run);
        return;
    }
    // A launched remote run lives on in its job dir whatever went wrong here (a collect that
    // failed, a connection that stayed down): come back and re-attach rather than fail it.
    bool launched = run && *run && (*run)->status == store::RunStatus::running &&
                    (*run)->remote_dir.has_value();
    if (launched || classify_failure(e) == FailureClass::transient) {
        if (job.host) {
            (void)store::mark_host_unhealthy(
                app.db, *job.host, core::now_ms() + shared.options.unhealthy_ms, e.message);
        }
        std::int64_t when =
            core::now_ms() + retry_backoff_ms(job.attempts, shared.options.retry_base_ms);
        auto state = store::release_job(app.db, job.id, shared.owner, when, e.message);
        shared.note(fmt::format("{} retry{} ({})",
                                job.run_id,
                                state && *state == store::JobState::failed ? " abandoned" : "",
                                e.message));
        return;
    }
    (void)store::record_outcome(
        app.db, job.run_id, store::OutcomeRecord{std::nullopt, e.message, std::nullopt});
    (void)store::transition_run(app.db, job.run_id, store::RunStatus::failed, e.message);
    (void)store::complete_job(app.db, job.id, shared.owner, store::JobState::failed, e.message);
    shared.note(fmt::format("{} failed {}", job.run_id, e.message));
}

// Runs (or re-attaches to) the run of `job`, on its own connection to the store.
void work_job(const config::Config& config,
              const std::filesystem::path& db_path,
              Shared& shared,
              Active& active) {
    const auto& job = active.job;
    auto db = store::Database::open(db_path);
    if (!db) {
        core::log(core::LogLevel::error, "{}", db.error().message);
        active.done = true;
        return;
    }
    App app{config, std::move(*db)};
    auto body = [&]() -> core::Status {
        COSMOS_TRY(auto run, store::get_run(app.db, job.run_id));
        if (!run) {
            return fail(ErrorCode::not_found, fmt::format("run {} is gone", job.run_id));
        }
        if (store::is_terminal(run->status)) {
            finish(app, shared, job, *run);
            return {};
        }
        COSMOS_TRY(auto host, config::find_host(config, job.host.value_or("")));
        if (run->status == store::RunStatus::running && !run->remote_dir) {
            if (host.kind != "ssh") {
                return fail(
                    ErrorCode::remote_failed,
                    fmt::format("run {} was running locally under a worker that died", run->id));
            }
            // Its worker died while staging: nothing runs on the host yet.
            (void)store::transition_run(
                app.db, run->id, store::RunStatus::queued, "staging again after its worker died");
            run->status = store::RunStatus::queued;
        }
        core::Result<store::RunRecord> result = fail(ErrorCode::internal, "not run");
        if (run->status == store::RunStatus::running) {
            shared.note(fmt::format("{} attach {}", run->id, host.name));
            AttachOptions attach;
            attach.stop = &active.cancel;
            attach.kill_on_stop = true;
            attach.mirror_log = true;
            result = attach_run(app, run->id, attach);
        } else {
            if (host.kind == "ssh") {
                auto remote = open_host(host);
                core::Status reach = remote ? core::Status{} : core::Status(fail(remote.error()));
                if (remote) {
                    if (auto ping = remote->shell->run({"true"}); !ping) {
                        reach = fail(ping.error());
                    }
                }
                if (!reach) {
                    return reach;
                }
            }
            std::string ids;
            for (int g : job.gpu_ids) {
                ids += ids.empty() ? std::to_string(g) : "," + std::to_string(g);
            }
            shared.note(fmt::format("{} start {} gpus {}", run->id, host.name, ids));
            ExecuteOptions exec;
            exec.host = host.name;
            exec.cancel = &active.cancel;
            exec.gpu_ids = job.gpu_ids;
            exec.requeue_transient = true;
            result = execute_run(app, run->id, exec);
        }
        if (!result) {
            return fail(result.error());
        }
        if (!store::is_terminal(result->status)) {
            return fail(
                ErrorCode::host_unreachable,
                fmt::format("run {} is still {}", result->id, store::to_string(result->status)));
        }
        if (job.host) {
            (void)store::mark_host_healthy(app.db, *job.host);
        }
        finish(app, shared, job, *result);
        return {};
    };
    if (auto s = body(); !s) {
        handle_error(app, shared, job, s.error());
    }
    active.done = true;
}

std::string default_owner() {
    char name[256] = {};
    (void)gethostname(name, sizeof(name) - 1);
    return fmt::format("{}:{}:{}", name, getpid(), core::new_id(core::IdKind::job).substr(4, 6));
}

}  // namespace

core::Status run_worker(const App& app, const WorkerOptions& options) {
    Shared shared{options, options.owner.empty() ? default_owner() : options.owner, {}};
    for (const auto& name : options.hosts) {
        COSMOS_TRY(auto h, config::find_host(app.config, name));
        if (h.kind != "local" && h.kind != "ssh") {
            return fail(
                ErrorCode::invalid_input,
                fmt::format("host {} is of kind {}, which workers cannot use yet", name, h.kind));
        }
    }
    std::vector<std::unique_ptr<Active>> active;
    std::int64_t last_renew = 0;
    auto spawn = [&](const store::JobRecord& job) {
        auto a = std::make_unique<Active>();
        a->job = job;
        Active* raw = a.get();
        raw->thread = std::thread(
            [&app, &shared, raw] { work_job(app.config, app.db.path(), shared, *raw); });
        active.push_back(std::move(a));
    };
    shared.note(fmt::format("worker {} started", shared.owner));
    for (;;) {
        // Reap finished jobs.
        for (auto it = active.begin(); it != active.end();) {
            if ((*it)->done) {
                (*it)->thread.join();
                it = active.erase(it);
            } else {
                ++it;
            }
        }
        std::int64_t now = core::now_ms();
        bool stopping = options.stop != nullptr && options.stop->load();
        if (now - last_renew >= options.lease_ms / 3) {
            last_renew = now;
            for (auto& a : active) {
                COSMOS_TRY(
                    bool mine,
                    store::renew_lease(app.db, a->job.id, shared.owner, options.lease_ms, now));
                COSMOS_TRY(auto fresh, store::get_job(app.db, a->job.id));
                if (!mine) {
                    // Another worker took it over (we were too slow to renew): it re-attaches
                    // to the same remote job; this thread finishes harmlessly (collecting is
                    // idempotent and only the lease holder can complete the job).
                    core::log(core::LogLevel::warn, "lost the lease of job {}", a->job.id);
                } else if (fresh && fresh->cancel_requested) {
                    a->cancel = true;  // `cosmos queue cancel`: stop (kills the run)
                }
            }
        }
        if (stopping) {
            if (active.empty()) {
                break;
            }
        } else {
            COSMOS_TRY(auto down, store::unhealthy_hosts(app.db, now));
            std::vector<store::HostCapacity> hosts;
            for (const auto& [name, h] : app.config.hosts) {
                bool wanted = options.hosts.empty()
                                  ? (h.kind == "local" || h.kind == "ssh")
                                  : std::find(options.hosts.begin(), options.hosts.end(), name) !=
                                        options.hosts.end();
                if (wanted && down.count(name) == 0) {
                    hosts.push_back({name, h.gpus});
                }
            }
            for (;;) {
                COSMOS_TRY(auto expired,
                           store::claim_expired_job(app.db, shared.owner, options.lease_ms, now));
                if (!expired) {
                    break;
                }
                shared.note(fmt::format("{} taken over from an expired lease", expired->run_id));
                spawn(*expired);
            }
            for (;;) {
                store::ClaimRequest req{shared.owner, options.lease_ms, now, hosts};
                COSMOS_TRY(auto job, store::claim_job(app.db, req));
                if (!job) {
                    break;
                }
                spawn(*job);
            }
            if (options.exit_when_idle && active.empty()) {
                COSMOS_TRY(auto left, store::pending_work(app.db, core::now_ms()));
                if (left == 0) {
                    break;
                }
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(options.poll_ms));
    }
    shared.note(fmt::format("worker {} stopped", shared.owner));
    return {};
}

}  // namespace cosmos::services
