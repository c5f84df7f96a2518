// A queue worker (see worker.hpp): one thread per running job, leases renewed by the main loop.

#include "services/worker.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/clock.hpp"
#include "core/guard.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "scheduler/batch.hpp"
#include "scheduler/claim.hpp"
#include "scheduler/job.hpp"
#include "scheduler/placement.hpp"
#include "scheduler/prestage.hpp"
#include "scheduler/served_job.hpp"
#include "services/alerts.hpp"
#include "services/execute_run.hpp"
#include "services/idle_hosts.hpp"
#include "services/queue.hpp"
#include "store/queue_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;

namespace {

struct Active {
    std::vector<store::JobRecord> jobs;  // one job, or the jobs of one batch (by line)
    std::thread thread;
    std::atomic<bool> cancel{false};
    std::atomic<bool> done{false};
};

struct Shared {
    const WorkerOptions& options;
    std::string owner;
    std::mutex note_mutex;
    // The main loop sleeps between looks at the queue until a job thread wakes it: GPUs were
    // released (the model ended) or a job ended, so the next claim starts at once instead of at
    // the next poll.
    std::mutex wake_mutex;
    std::condition_variable wake_cv;
    bool woken = false;

    void wake() {
        {
            std::lock_guard<std::mutex> lock(wake_mutex);
            woken = true;
        }
        wake_cv.notify_all();
    }

    void sleep(std::chrono::milliseconds poll) {
        std::unique_lock<std::mutex> lock(wake_mutex);
        wake_cv.wait_for(lock, poll, [this] { return woken; });
        woken = false;
    }

    void note(const std::string& line) {
        if (options.note) {
            // Lines start with the time of day (UTC, ms): a worker's log is a timeline.
            std::string at = core::iso_from_ms(core::now_ms());
            auto t = at.find('T');
            std::lock_guard<std::mutex> lock(note_mutex);
            options.note((t == std::string::npos ? at : at.substr(t + 1, 12)) + " " + line);
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

std::string join_gpus(const std::vector<int>& ids) {
    std::string out;
    for (int g : ids) {
        out += out.empty() ? std::to_string(g) : "," + std::to_string(g);
    }
    return out;
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
            core::warn_on_error(
                store::mark_host_unhealthy(
                    app.db, *job.host, core::now_ms() + shared.options.unhealthy_ms, e.message),
                "store::mark_host_unhealthy");
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
    core::warn_on_error(
        store::record_outcome(
            app.db, job.run_id, store::OutcomeRecord{std::nullopt, e.message, std::nullopt}),
        "store::record_outcome");
    core::warn_on_error(
        store::transition_run(app.db, job.run_id, store::RunStatus::failed, e.message),
        "store::transition_run");
    core::warn_on_error(
        store::complete_job(app.db, job.id, shared.owner, store::JobState::failed, e.message),
        "store::complete_job");
    shared.note(fmt::format("{} failed {}", job.run_id, e.message));
}

// True when the job `key` (a run id or batch id) has no process and no exit code on `host`:
// its model never started.
core::Result<bool> never_started(const config::HostConfig& host, const std::string& key) {
    COSMOS_TRY(auto remote, scheduler::open_host(host));
    COSMOS_TRY(auto state, backends::observe_job(remote, backends::job_request(remote, key)));
    return state.state == runtime::ProcessState::absent;
}

// Starts run `run` of `job` (a single job) on `host`, or re-attaches to it.
core::Result<store::RunRecord> work_single(App& app,
                                           Shared& shared,
                                           Active& active,
                                           const store::JobRecord& job,
                                           const store::RunRecord& run,
                                           const config::HostConfig& host) {
    auto free_gpus = [&app, &shared, &job] {
        core::warn_on_error(store::release_gpus(app.db, {job.id}, shared.owner),
                            "store::release_gpus");
        shared.wake();
    };
    if (run.status == store::RunStatus::running) {
        shared.note(fmt::format("{} attach {}", run.id, host.name));
        scheduler::AttachOptions attach;
        attach.stop = &active.cancel;
        attach.kill_on_stop = true;
        attach.mirror_log = true;
        attach.on_model_end = free_gpus;
        attach.requeue_transient = true;
        return scheduler::attach_run(app, run.id, attach);
    }
    // (execute_run connects first and leaves the run queued when the host cannot be reached.)
    shared.note(fmt::format("{} start {} gpus {}", run.id, host.name, join_gpus(job.gpu_ids)));
    ExecuteOptions exec;
    exec.host = host.name;
    exec.cancel = &active.cancel;
    exec.gpu_ids = job.gpu_ids;
    exec.requeue_transient = true;
    exec.on_model_end = free_gpus;
    return execute_run(app, run.id, exec);
}

// The runs of one claim (`active.jobs`), sorted by what has to happen to them: runs to start,
// launched batches to follow, launched single runs to re-attach to.
struct Sorted {
    std::vector<std::string> fresh;                            // runs to start
    std::map<std::string, std::vector<std::string>> launched;  // batch id -> its runs here
    std::vector<std::pair<const store::JobRecord*, store::RunRecord>> singles_running;
};

// Works the runs of one claim on its own connection to the store (one thread per claim).
class JobWork {
public:
    JobWork(App& app, Shared& shared, Active& active)
        : m_app(app), m_shared(shared), m_active(active), m_jobs(active.jobs) {}

    // Starts, follows or re-attaches to every run; failures land in m_errors.
    core::Status work() {
        const auto& first = m_jobs.front();
        COSMOS_TRY(auto host, config::find_host(m_app.config, first.host.value_or("")));
        COSMOS_TRY(auto sorted, sort(host));
        for (const auto& [batch_id, run_ids] : sorted.launched) {
            m_shared.note(
                fmt::format("{} attach {} ({} runs)", batch_id, host.name, run_ids.size()));
            auto opts = batch_options(host, run_ids);
            if (auto r = scheduler::attach_batch(m_app, batch_id, opts); !r) {
                mark(run_ids, r.error());
            }
        }
        for (const auto& [job, run] : sorted.singles_running) {
            if (auto r = work_single(m_app, m_shared, m_active, *job, run, host); !r) {
                m_errors.emplace(job->id, r.error());
            }
        }
        if (sorted.fresh.size() == 1 && !first.batch_id) {
            COSMOS_TRY(auto run, store::require_run(m_app.db, sorted.fresh.front()));
            if (auto r = work_single(m_app, m_shared, m_active, first, run, host); !r) {
                m_errors.emplace(first.id, r.error());
            }
        } else if (!sorted.fresh.empty()) {
            start_batch(host, sorted);
        }
        return {};
    }

    // A failure of the whole claim: every job's.
    void fail_all(const core::Error& e) {
        for (const auto& job : m_jobs) {
            m_errors.emplace(job.id, e);
        }
    }

    // Each job ends with its run: finished, back to the queue (a batch line that never ran, a
    // transient failure), or failed.
    void settle() {
        for (const auto& job : m_jobs) {
            auto run = store::get_run(m_app.db, job.run_id);
            if (run && *run && store::is_terminal((*run)->status)) {
                if (job.host) {
                    core::warn_on_error(store::mark_host_healthy(m_app.db, *job.host),
                                        "store::mark_host_healthy");
                }
                finish(m_app, m_shared, job, **run);
            } else if (auto it = m_errors.find(job.id); it != m_errors.end()) {
                handle_error(m_app, m_shared, job, it->second);
            } else if (run && *run && (*run)->status == store::RunStatus::queued) {
                auto state = store::release_job(m_app.db,
                                                job.id,
                                                m_shared.owner,
                                                core::now_ms(),
                                                "its batch ended before it ran");
                m_shared.note(
                    fmt::format("{} requeued{}",
                                job.run_id,
                                state && *state == store::JobState::failed ? " abandoned" : ""));
            } else {
                std::string now = run && *run ? std::string(store::to_string((*run)->status))
                                              : std::string("gone");
                handle_error(m_app,
                             m_shared,
                             job,
                             core::Error{ErrorCode::host_unreachable,
                                         fmt::format("run {} is still {}", job.run_id, now),
                                         {}});
            }
        }
    }

private:
    // Sorts the claim's runs; a run whose worker died before its model started goes back to
    // being a run to start (the runtime never starts a job twice).
    core::Result<Sorted> sort(const config::HostConfig& host) {
        Sorted out;
        for (const auto& job : m_jobs) {
            COSMOS_TRY(auto run, store::get_run(m_app.db, job.run_id));
            if (!run) {
                m_errors.emplace(
                    job.id,
                    core::Error{
                        ErrorCode::not_found, fmt::format("run {} is gone", job.run_id), {}});
                continue;
            }
            if (store::is_terminal(run->status)) {
                continue;
            }
            COSMOS_CHECK(restart_if_never_started(host, *run));
            if (run->status == store::RunStatus::running && run->batch_id) {
                out.launched[*run->batch_id].push_back(run->id);
            } else if (run->status == store::RunStatus::running) {
                out.singles_running.emplace_back(&job, *run);
            } else {
                out.fresh.push_back(run->id);
            }
        }
        return out;
    }

    // A run recorded as running whose model never started (its worker died while staging, or
    // between recording the launch and starting the model) is queued to be started again.
    core::Status restart_if_never_started(const config::HostConfig& host, store::RunRecord& run) {
        if (run.status != store::RunStatus::running) {
            return {};
        }
        std::string why = "staging again after its worker died";
        if (run.remote_dir && run.runtime == scheduler::k_served_runtime) {
            return {};  // a request the server accepted: followed again (scheduler/served_job)
        }
        if (run.remote_dir) {
            COSMOS_TRY(bool absent, never_started(host, run.batch_id.value_or(run.id)));
            if (!absent) {
                return {};
            }
            COSMOS_CHECK(store::record_batch(m_app.db, run.id, std::nullopt, std::nullopt));
            why = "launching again: its worker died before the model started";
        }
        COSMOS_CHECK(store::transition_run(m_app.db, run.id, store::RunStatus::queued, why));
        run.status = store::RunStatus::queued;
        run.batch_id.reset();
        return {};
    }

    // Starts the claim's fresh runs as one batch (one model load).
    void start_batch(const config::HostConfig& host, const Sorted& sorted) {
        const auto& first = m_jobs.front();
        std::string batch_id = first.batch_id.value_or(core::new_id(core::IdKind::batch));
        if (sorted.launched.count(batch_id) != 0) {
            batch_id = core::new_id(core::IdKind::batch);  // its old batch is followed already
        }
        m_shared.note(fmt::format("{} start {} gpus {} runs {}",
                                  batch_id,
                                  host.name,
                                  join_gpus(first.gpu_ids),
                                  fmt::join(sorted.fresh, ",")));
        auto opts = batch_options(host, sorted.fresh);
        opts.gpu_ids = first.gpu_ids;
        auto noted = std::make_shared<bool>(false);
        opts.sink = [shared = &m_shared, noted, batch_id](const backends::JobEvent& e) {
            if (std::holds_alternative<backends::Launched>(e) && !*noted) {
                *noted = true;
                shared->note(fmt::format("{} launched", batch_id));
            }
        };
        if (auto r = scheduler::execute_batch(m_app, batch_id, sorted.fresh, opts); !r) {
            mark(sorted.fresh, r.error());
        }
    }

    // Options of a batch of `run_ids` on `host`: stopped by the claim's cancel, its jobs' GPUs
    // released (and the worker woken) the moment its model ends.
    scheduler::BatchOptions batch_options(const config::HostConfig& host,
                                          const std::vector<std::string>& run_ids) {
        scheduler::BatchOptions opts;
        opts.host = host.name;
        opts.stop = &m_active.cancel;
        opts.preflight = preflight(m_app, ExecuteOptions{});
        opts.on_model_end = [app = &m_app, shared = &m_shared, ids = job_ids(run_ids)] {
            core::warn_on_error(store::release_gpus(app->db, ids, shared->owner),
                                "store::release_gpus");
            shared->wake();
        };
        return opts;
    }

    std::vector<std::string> job_ids(const std::vector<std::string>& run_ids) const {
        std::vector<std::string> ids;
        for (const auto& job : m_jobs) {
            if (std::find(run_ids.begin(), run_ids.end(), job.run_id) != run_ids.end()) {
                ids.push_back(job.id);
            }
        }
        return ids;
    }

    void mark(const std::vector<std::string>& run_ids, const core::Error& e) {
        for (const auto& job : m_jobs) {
            if (std::find(run_ids.begin(), run_ids.end(), job.run_id) != run_ids.end()) {
                m_errors.emplace(job.id, e);
            }
        }
    }

    App& m_app;
    Shared& m_shared;
    Active& m_active;
    const std::vector<store::JobRecord>& m_jobs;
    std::map<std::string, core::Error> m_errors;  // job id -> why it did not end
};

// Runs (or re-attaches to) the runs of `active.jobs`, on its own connection to the store: a
// single run, or a batch (scheduler/batch) whose runs not yet launched start as one model
// load while those of a launched batch are followed to its end.
void work_job(const config::Config& config,
              const std::filesystem::path& db_path,
              Shared& shared,
              Active& active) {
    auto db = store::Database::open(db_path);
    if (!db) {
        core::log(core::LogLevel::error, "{}", db.error().message);
        active.done = true;
        shared.wake();
        return;
    }
    App app{config, std::move(*db)};
    JobWork work(app, shared, active);
    // A thread entry never dies silently: an exception (a bug, an allocation failure) becomes
    // the error of every job it owns, recorded on their runs below like any other failure.
    core::Status worked;
    try {
        worked = work.work();
    } catch (const std::exception& e) {
        worked = fail(ErrorCode::internal, fmt::format("worker thread failed: {}", e.what()));
    } catch (...) {
        worked = fail(ErrorCode::internal, "worker thread failed with an unknown exception");
    }
    if (!worked) {
        work.fail_all(worked.error());
    }
    work.settle();
    active.done = true;
    shared.wake();
}

// Chooses where each of the next queued runs will probably go and uploads their inputs there
// now (scheduler/prestage), on a thread of its own: the host its job asked for, else a host
// where a compatible batch runs (claims prefer it), else the serving hosts in turn.
class Prestager {
public:
    using Plan = std::map<std::string, std::vector<std::string>>;  // host -> runs to prestage
    ~Prestager() { wait(); }

    void maybe_start(const App& app,
                     const std::vector<scheduler::HostCapacity>& hosts,
                     Shared& shared,
                     int limit) {
        if (m_thread.joinable()) {
            if (!m_done) {
                return;
            }
            m_thread.join();
        }
        std::vector<std::string> serving;
        for (const auto& h : hosts) {
            if (!h.serves) {  // a request uploads its input itself
                serving.push_back(h.name);
            }
        }
        auto jobs = store::list_jobs(app.db, 0);
        if (serving.empty() || !jobs) {
            return;
        }
        std::map<std::string, std::string> warm;  // batch key -> host it runs on
        for (const auto& j : *jobs) {
            if (j.state == store::JobState::running && j.batch_key && j.host) {
                warm[*j.batch_key] = *j.host;
            }
        }
        Plan plan;
        int planned = 0;
        for (const auto& j : *jobs) {
            if (j.state != store::JobState::queued || j.paused || m_seen.count(j.run_id) != 0 ||
                scheduler::is_served_key(j.batch_key)) {
                continue;
            }
            if (planned >= limit) {
                break;
            }
            std::string host = j.want_host.value_or("");
            if (host.empty() && j.batch_key && warm.count(*j.batch_key) != 0) {
                host = warm[*j.batch_key];
            }
            if (host.empty()) {
                host = serving[m_next++ % serving.size()];
            }
            if (std::find(serving.begin(), serving.end(), host) == serving.end()) {
                continue;
            }
            m_seen.insert(j.run_id);
            plan[host].push_back(j.run_id);
            ++planned;
        }
        if (plan.empty()) {
            return;
        }
        m_done = false;
        m_thread = std::thread([this, &app, &shared, plan = std::move(plan)] {
            core::guarded("prestaging", [&] { prestage(app, shared, plan); });
            m_done = true;
        });
    }

    void prestage(const App& app, Shared& shared, const Plan& plan) {
        {
            auto db = store::Database::open(app.db.path());
            if (db) {
                App own{app.config, std::move(*db)};
                for (const auto& [host, runs] : plan) {
                    auto cfg = config::find_host(app.config, host);
                    if (!cfg) {
                        continue;
                    }
                    auto r = scheduler::prestage_runs(own, *cfg, runs);
                    if (r && r->uploaded_bytes > 0) {
                        shared.note(fmt::format("prestaged inputs of {} runs on {} ({} bytes sent)",
                                                runs.size(),
                                                host,
                                                r->uploaded_bytes));
                    } else if (!r) {
                        core::log(
                            core::LogLevel::debug, "prestaging on {}: {}", host, r.error().message);
                    }
                }
            }
        }
    }

    void wait() {
        if (m_thread.joinable()) {
            m_thread.join();
        }
    }

private:
    std::thread m_thread;
    std::atomic<bool> m_done{true};
    std::set<std::string> m_seen;
    std::size_t m_next = 0;
};

std::string default_owner() {
    char name[256] = {};
    (void)::gethostname(name, sizeof(name) - 1);
    return fmt::format("{}:{}:{}", name, getpid(), core::new_id(core::IdKind::job).substr(4, 6));
}

}  // namespace

core::Status check_worker_options(const WorkerOptions& o) {
    // A lease of 0 expires at once, so two workers ran the same run and put two runs on one GPU:
    // the lease must outlive the renewals, which the loop makes once per poll.
    if (o.lease_ms < 1000) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("a lease of {} ms is too short: at least 1 s", o.lease_ms));
    }
    if (o.poll_ms < 10 || o.poll_ms > 3600000) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format("a poll interval of {} ms is out of range (10 ms to 1 h)", o.poll_ms));
    }
    if (o.lease_ms < 3 * o.poll_ms) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("a lease of {} ms is shorter than three polls of {} ms: it would "
                                "expire between renewals",
                                o.lease_ms,
                                o.poll_ms),
                    "raise --lease or lower --poll");
    }
    if (o.retry_base_ms < 0 || o.unhealthy_ms < 0) {
        return fail(ErrorCode::invalid_input, "retry and host back-off times cannot be negative");
    }
    if (o.max_batch < 1) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("--max-batch {} must be at least 1", o.max_batch));
    }
    return {};
}

namespace {

// The worker's main loop: reap finished job threads, renew their leases, claim what fits the
// free GPUs (expired leases first), pre-stage what comes next, sleep until a poll or until a job
// releases GPUs.
// The hosts a worker serves: those it was given, else every configured one.
std::vector<std::string> served_hosts(const App& app, const WorkerOptions& options) {
    if (!options.hosts.empty()) {
        return options.hosts;
    }
    std::vector<std::string> all;
    for (const auto& [name, h] : app.config.hosts) {
        all.push_back(name);
    }
    return all;
}

class WorkerLoop {
public:
    WorkerLoop(const App& app, const WorkerOptions& options)
        : m_app(app),
          m_options(options),
          m_shared{options, options.owner.empty() ? default_owner() : options.owner, {}},
          m_idle(app,
                 served_hosts(app, options),
                 [this](const std::string& line) { m_shared.note(line); }),
          m_alerts(app.config, [this](const std::string& line) { m_shared.note(line); }) {}

    // Whatever ends the loop (an error of the store included), the threads working runs finish
    // first: a joinable std::thread destroyed would abort the process.
    ~WorkerLoop() {
        for (auto& a : m_active) {
            if (a->thread.joinable()) {
                a->thread.join();
            }
        }
    }
    WorkerLoop(const WorkerLoop&) = delete;
    WorkerLoop& operator=(const WorkerLoop&) = delete;

    core::Status run() {
        m_shared.note(fmt::format("worker {} started", m_shared.owner));
        for (;;) {
            reap();
            std::int64_t now = core::now_ms();
            COSMOS_CHECK(renew_leases(now));
            if (m_options.stop != nullptr && m_options.stop->load()) {
                if (m_active.empty()) {
                    break;
                }
            } else {
                COSMOS_TRY(bool idle, claim(now));
                if (idle) {
                    break;
                }
            }
            m_shared.sleep(std::chrono::milliseconds(m_options.poll_ms));
        }
        m_prestager.wait();
        m_shared.note(fmt::format("worker {} stopped", m_shared.owner));
        return {};
    }

private:
    void spawn(std::vector<store::JobRecord> jobs) {
        auto a = std::make_unique<Active>();
        a->jobs = std::move(jobs);
        Active* raw = a.get();
        raw->thread = std::thread([app = &m_app, shared = &m_shared, raw] {
            work_job(app->config, app->db.path(), *shared, *raw);
        });
        m_active.push_back(std::move(a));
    }

    void reap() {
        for (auto it = m_active.begin(); it != m_active.end();) {
            if ((*it)->done) {
                (*it)->thread.join();
                it = m_active.erase(it);
            } else {
                ++it;
            }
        }
    }

    // Every lease_ms/3: renews the lease of every job in flight; a job whose runs were all
    // cancelled (`cosmos queue cancel`) is stopped (which kills its model).
    core::Status renew_leases(std::int64_t now) {
        if (now - m_last_renew < m_options.lease_ms / 3) {
            return {};
        }
        m_last_renew = now;
        for (auto& a : m_active) {
            bool all_cancelled = true;
            for (const auto& job : a->jobs) {
                COSMOS_TRY(
                    bool mine,
                    store::renew_lease(m_app.db, job.id, m_shared.owner, m_options.lease_ms, now));
                COSMOS_TRY(auto fresh, store::get_job(m_app.db, job.id));
                if (!mine) {
                    // Another worker took it over (we were too slow to renew): it re-attaches
                    // to the same remote job; this thread finishes harmlessly (collecting is
                    // idempotent and only the lease holder can complete it).
                    core::log(core::LogLevel::warn, "lost the lease of job {}", job.id);
                }
                all_cancelled = all_cancelled && fresh && fresh->cancel_requested;
            }
            if (all_cancelled) {
                a->cancel = true;
            }
        }
        return {};
    }

    // The hosts this worker may use now (not routed around), with their capacity.
    core::Result<std::vector<scheduler::HostCapacity>> usable_hosts(std::int64_t now) const {
        COSMOS_TRY(auto down, store::unhealthy_hosts(m_app.db, now));
        COSMOS_TRY(auto stopped, m_idle.stopped());
        const auto& wanted = m_options.hosts;
        std::vector<scheduler::HostCapacity> hosts;
        for (const auto& [name, h] : m_app.config.hosts) {
            if ((!wanted.empty() &&
                 std::find(wanted.begin(), wanted.end(), name) == wanted.end()) ||
                down.count(name) > 0 || stopped.count(name) > 0) {
                continue;
            }
            // A slurm host's capacity is the Slurm jobs kept in flight, whatever their GPU
            // counts: Slurm itself places them on nodes.
            // A host that serves takes up to max_concurrent requests at once, never batched.
            bool slurm = h.kind == core::HostKind::slurm;
            if (h.serves()) {
                hosts.push_back({name, h.server.max_concurrent, false, true, false, true});
                continue;
            }
            hosts.push_back({name,
                             slurm ? h.slurm.max_in_flight : h.gpus,
                             m_options.max_batch > 1,
                             slurm,
                             slurm});
        }
        return hosts;
    }

    // Claims what fits (expired leases first), pre-stages what comes next; true when the
    // worker should exit (--exit-when-idle and nothing left).
    core::Result<bool> claim(std::int64_t now) {
        std::set<std::string> busy;
        for (const auto& a : m_active) {
            for (const auto& job : a->jobs) {
                if (job.host) {
                    busy.insert(*job.host);
                }
            }
        }
        COSMOS_CHECK(m_idle.tick(now, busy));
        m_alerts.tick();  // evaluates and delivers on its own thread (docs/alerts.md)
        COSMOS_TRY(auto hosts, usable_hosts(now));
        for (;;) {
            COSMOS_TRY(
                auto expired,
                store::claim_expired_jobs(m_app.db, m_shared.owner, m_options.lease_ms, now));
            if (expired.empty()) {
                break;
            }
            for (const auto& job : expired) {
                m_shared.note(fmt::format("{} taken over from an expired lease", job.run_id));
            }
            spawn(std::move(expired));
        }
        for (;;) {
            scheduler::ClaimRequest req{
                m_shared.owner, m_options.lease_ms, now, hosts, m_options.max_batch};
            COSMOS_TRY(auto jobs, scheduler::claim_batch(m_app.db, req));
            if (jobs.empty()) {
                break;
            }
            spawn(std::move(jobs));
        }
        // Every GPU it may use is busy (or nothing is left): upload what comes next.
        m_prestager.maybe_start(m_app, hosts, m_shared, std::max(4, 2 * m_options.max_batch));
        if (!m_options.exit_when_idle || !m_active.empty()) {
            return false;
        }
        COSMOS_TRY(auto left, store::pending_work(m_app.db, core::now_ms()));
        return left == 0;
    }

    const App& m_app;
    const WorkerOptions& m_options;
    Shared m_shared;
    std::vector<std::unique_ptr<Active>> m_active;
    Prestager m_prestager;
    std::int64_t m_last_renew = 0;
    IdleHosts m_idle;  // after m_shared, which its notes go to
    // Last: destroyed first, so a pass in flight ends before m_shared goes.
    AlertTicker m_alerts;
};

}  // namespace

core::Status run_worker(const App& app, const WorkerOptions& options) {
    COSMOS_CHECK(check_worker_options(options));
    for (const auto& name : options.hosts) {
        COSMOS_TRY(auto h, config::find_host(app.config, name));
        (void)h;  // an unknown host name is refused here, before anything is claimed
    }
    WorkerLoop loop(app, options);
    return loop.run();
}

}  // namespace cosmos::services
