// The persistent run queue in SQLite (see queue_store.hpp). Every change is one short
// BEGIN IMMEDIATE transaction, so claims by several threads or processes never overlap.

#include "store/queue_store.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "store/run_store.hpp"

namespace cosmos::store {

using core::ErrorCode;
using core::fail;

namespace {

constexpr const char* k_job_columns =
    "j.id, coalesce((SELECT run_id FROM job_runs r WHERE r.job_id = j.id ORDER BY position "
    "LIMIT 1), ''), j.state, j.priority, j.position, j.host, j.want_host, j.gpus, j.gpu_ids, "
    "j.attempts, j.max_attempts, j.lease_owner, j.lease_expires_ms, j.not_before_ms, j.reason, "
    "j.depends_on, j.paused, j.cancel_requested, j.created_at, j.updated_at, j.batch_key, "
    "j.batch_id, j.batch_index, j.gpus_released";

std::vector<int> parse_ids(const std::string& s) {
    std::vector<int> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) {
        if (!item.empty()) {
            out.push_back(std::stoi(item));
        }
    }
    return out;
}

std::string join_ids(const std::vector<int>& ids) {
    std::string out;
    for (int id : ids) {
        out += out.empty() ? std::to_string(id) : "," + std::to_string(id);
    }
    return out;
}

JobRecord read_job(const Statement& st) {
    JobRecord j;
    j.id = st.text(0);
    j.run_id = st.text(1);
    j.state = job_state_from(st.text(2)).value_or(JobState::failed);
    j.priority = static_cast<int>(st.int64(3));
    j.position = st.real(4);
    j.host = st.opt_text(5);
    j.want_host = st.opt_text(6);
    j.gpus = static_cast<int>(st.int64(7));
    j.gpu_ids = parse_ids(st.text(8));
    j.attempts = static_cast<int>(st.int64(9));
    j.max_attempts = static_cast<int>(st.int64(10));
    j.lease_owner = st.opt_text(11);
    j.lease_expires_ms = st.opt_int64(12);
    j.not_before_ms = st.opt_int64(13);
    j.reason = st.opt_text(14);
    j.depends_on = st.opt_text(15);
    j.paused = st.int64(16) != 0;
    j.cancel_requested = st.int64(17) != 0;
    j.created_at = st.text(18);
    j.updated_at = st.text(19);
    j.batch_key = st.opt_text(20);
    j.batch_id = st.opt_text(21);
    if (!st.is_null(22)) {
        j.batch_index = static_cast<int>(st.int64(22));
    }
    j.gpus_released = st.int64(23) != 0;
    return j;
}

core::Result<std::vector<JobRecord>> select_jobs(const Database& db,
                                                 const std::string& where_order,
                                                 const std::function<void(Statement&)>& bind) {
    COSMOS_TRY(auto st,
               db.prepare(fmt::format("SELECT {} FROM jobs j {}", k_job_columns, where_order)));
    if (bind) {
        bind(st);
    }
    std::vector<JobRecord> out;
    for (;;) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            break;
        }
        out.push_back(read_job(st));
    }
    return out;
}

core::Result<std::optional<JobRecord>> one_job(const Database& db, const std::string& id) {
    COSMOS_TRY(auto jobs,
               select_jobs(db, "WHERE j.id = ?", [&](Statement& st) { st.bind(1, id); }));
    if (jobs.empty()) {
        return std::optional<JobRecord>{};
    }
    return std::optional<JobRecord>{jobs.front()};
}

core::Result<std::map<std::string, std::set<int>>> gpus_in_use(const Database& db) {
    COSMOS_TRY(auto running,
               select_jobs(db,
                           "WHERE j.state = 'running' AND j.host IS NOT NULL AND "
                           "j.gpus_released = 0",
                           {}));
    std::map<std::string, std::set<int>> used;
    for (const auto& j : running) {
        for (int g : j.gpu_ids) {
            used[*j.host].insert(g);
        }
    }
    return used;
}

core::Status set_job(const Database& db,
                     const std::string& sql,
                     const std::function<void(Statement&)>& bind) {
    COSMOS_TRY(auto st, db.prepare(sql));
    bind(st);
    return st.run();
}

}  // namespace

// Cancels queued jobs (and their runs) whose dependency ended without success.
core::Status cancel_broken_dependencies(const Database& db) {
    COSMOS_TRY(auto broken,
               select_jobs(db,
                           "JOIN runs d ON d.id = j.depends_on WHERE j.state = 'queued' AND "
                           "(d.status IN ('failed','cancelled') OR (d.status = 'pending' AND "
                           "NOT EXISTS (SELECT 1 FROM jobs p JOIN job_runs pr ON pr.job_id = p.id "
                           "WHERE pr.run_id = d.id AND p.state IN ('queued','running'))))",
                           {}));
    for (const auto& j : broken) {
        // A pending dependency with no job of its own never runs: waiting for it would keep
        // `worker --exit-when-idle` waiting forever.
        std::string why =
            fmt::format("dependency {} did not succeed (or was never queued)", *j.depends_on);
        COSMOS_TRY(auto st,
                   db.prepare("UPDATE jobs SET state = 'cancelled', reason = ?, updated_at = ? "
                              "WHERE id = ?"));
        st.bind(1, why).bind(2, core::now_iso()).bind(3, j.id);
        if (auto s = st.run(); !s) {
            return s;
        }
        COSMOS_CHECK(transition_run(db, j.run_id, RunStatus::cancelled, why));
    }
    return {};
}

std::string_view to_string(JobState s) {
    switch (s) {
        case JobState::queued:
            return "queued";
        case JobState::running:
            return "running";
        case JobState::done:
            return "done";
        case JobState::failed:
            return "failed";
        case JobState::cancelled:
            return "cancelled";
    }
    return "failed";
}

std::optional<JobState> job_state_from(std::string_view s) {
    for (auto st : {JobState::queued,
                    JobState::running,
                    JobState::done,
                    JobState::failed,
                    JobState::cancelled}) {
        if (to_string(st) == s) {
            return st;
        }
    }
    return std::nullopt;
}

core::Result<JobRecord> enqueue_job(const Database& db, const EnqueueRequest& req) {
    std::string id = core::new_id(core::IdKind::job);
    auto s = db.transaction([&]() -> core::Status {
        COSMOS_TRY(auto run, get_run(db, req.run_id));
        if (!run) {
            return fail(ErrorCode::not_found, fmt::format("no run {}", req.run_id));
        }
        if (run->status != RunStatus::pending && run->status != RunStatus::queued) {
            return fail(ErrorCode::conflict,
                        fmt::format("run {} is {}; only pending runs can be queued",
                                    req.run_id,
                                    to_string(run->status)));
        }
        COSMOS_TRY(auto existing, job_for_run(db, req.run_id));
        if (existing &&
            (existing->state == JobState::queued || existing->state == JobState::running)) {
            return fail(ErrorCode::conflict,
                        fmt::format("run {} is already queued as {}", req.run_id, existing->id));
        }
        COSMOS_TRY(
            auto pos_st,
            db.prepare("SELECT coalesce(max(position), 0) + 1 FROM jobs WHERE priority = ?"));
        pos_st.bind(1, req.priority);
        COSMOS_TRY(bool row, pos_st.step());
        double position = row ? pos_st.real(0) : 1.0;
        std::string now = core::now_iso();
        if (auto r = set_job(db,
                             "INSERT INTO jobs (id, state, priority, gpus, max_attempts, "
                             "created_at, updated_at, position, depends_on, want_host, batch_key) "
                             "VALUES (?,'queued',?,?,?,?,?,?,?,?,?)",
                             [&](Statement& st) {
                                 st.bind(1, id)
                                     .bind(2, req.priority)
                                     .bind(3, req.gpus)
                                     .bind(4, req.max_attempts)
                                     .bind(5, now)
                                     .bind(6, now)
                                     .bind(7, position)
                                     .bind(8, req.depends_on)
                                     .bind(9, req.want_host)
                                     .bind(10, req.batch_key);
                             });
            !r) {
            return r;
        }
        if (auto r = set_job(db,
                             "INSERT INTO job_runs (job_id, run_id, position) VALUES (?,?,0)",
                             [&](Statement& st) { st.bind(1, id).bind(2, req.run_id); });
            !r) {
            return r;
        }
        if (run->status == RunStatus::pending) {
            COSMOS_TRY(bool moved, transition_run(db, req.run_id, RunStatus::queued, id));
            (void)moved;
        }
        return {};
    });
    if (!s) {
        return fail(s.error());
    }
    COSMOS_TRY(auto job, one_job(db, id));
    return *job;
}

core::Result<std::optional<JobRecord>> get_job(const Database& db, const std::string& id) {
    return one_job(db, id);
}

core::Result<std::optional<JobRecord>> job_for_run(const Database& db, const std::string& run_id) {
    COSMOS_TRY(auto jobs,
               select_jobs(db,
                           "WHERE j.id IN (SELECT job_id FROM job_runs WHERE run_id = ?) "
                           "ORDER BY j.created_at DESC, j.rowid DESC LIMIT 1",
                           [&](Statement& st) { st.bind(1, run_id); }));
    if (jobs.empty()) {
        return std::optional<JobRecord>{};
    }
    return std::optional<JobRecord>{jobs.front()};
}

core::Result<std::vector<JobRecord>> list_jobs(const Database& db, int finished_limit) {
    COSMOS_TRY(auto active,
               select_jobs(db,
                           "WHERE j.state IN ('running','queued') ORDER BY j.state = 'queued', "
                           "j.priority DESC, j.position, j.created_at",
                           {}));
    if (finished_limit > 0) {
        COSMOS_TRY(auto ended,
                   select_jobs(db,
                               "WHERE j.state NOT IN ('running','queued') ORDER BY "
                               "j.updated_at DESC LIMIT ?",
                               [&](Statement& st) { st.bind(1, finished_limit); }));
        active.insert(active.end(), ended.begin(), ended.end());
    }
    return active;
}

namespace {

// Runs' worth of work the running jobs still have on their GPUs: 1 − progress of each running
// run whose job still holds its GPUs.
core::Result<double> work_in_flight(const Database& db) {
    COSMOS_TRY(
        auto st,
        db.prepare("SELECT coalesce(sum(1.0 - r.progress), 0) FROM jobs j JOIN job_runs jr "
                   "ON jr.job_id = j.id JOIN runs r ON r.id = jr.run_id WHERE j.state = "
                   "'running' AND j.gpus_released = 0 AND r.status IN ('queued','running')"));
    COSMOS_TRY(bool row, st.step());
    return row ? std::max(0.0, st.real(0)) : 0.0;
}

// Whether run `dep` succeeded, and the host of its running job if it has one.
core::Result<DependencyState> dependency_state(const Database& db, const std::string& dep) {
    COSMOS_TRY(
        auto st,
        db.prepare("SELECT r.status, (SELECT j.host FROM jobs j JOIN job_runs jr ON jr.job_id = "
                   "j.id WHERE jr.run_id = r.id AND j.state = 'running' ORDER BY j.created_at "
                   "DESC LIMIT 1) FROM runs r WHERE r.id = ?"));
    st.bind(1, dep);
    COSMOS_TRY(bool row, st.step());
    DependencyState state;
    if (row) {
        state.succeeded = st.text(0) == "succeeded";
        state.running_on = st.opt_text(1);
    }
    return state;
}

// For every batch key of a queued job: the hosts where a job of that key runs now or ran, by
// recency (1 = least recent; a running job beats finished ones). One query for all keys: a
// claim reads this once, whatever the number of queued jobs (a per-key query made a 200-run
// seed sweep 40,000 queries).
core::Result<std::map<std::string, std::map<std::string, std::int64_t>>> warm_hosts(
    const Database& db) {
    COSMOS_TRY(auto st,
               db.prepare("SELECT batch_key, host, max(state = 'running'), max(updated_at) "
                          "FROM jobs WHERE host IS NOT NULL AND state IN ('running','done') AND "
                          "batch_key IN (SELECT batch_key FROM jobs WHERE state = 'queued' AND "
                          "batch_key IS NOT NULL) GROUP BY batch_key, host"));
    std::map<std::string, std::vector<std::pair<std::string, std::string>>> rows;
    for (;;) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            break;
        }
        rows[st.text(0)].emplace_back(st.text(1), (st.int64(2) != 0 ? "1" : "0") + st.text(3));
    }
    std::map<std::string, std::map<std::string, std::int64_t>> warm;
    for (auto& [key, hosts] : rows) {
        std::sort(hosts.begin(), hosts.end(), [](const auto& a, const auto& b) {
            return a.second < b.second;
        });
        for (std::size_t i = 0; i < hosts.size(); ++i) {
            warm[key][hosts[i].first] = static_cast<std::int64_t>(i) + 1;
        }
    }
    return warm;
}

}  // namespace

core::Result<QueueSnapshot> queue_snapshot(const Database& db, std::int64_t now_ms) {
    QueueSnapshot view;
    COSMOS_TRY(view.used, gpus_in_use(db));
    COSMOS_TRY(view.candidates,
               select_jobs(db,
                           "LEFT JOIN runs d ON d.id = j.depends_on WHERE j.state = 'queued' "
                           "AND j.paused = 0 AND j.cancel_requested = 0 AND "
                           "(j.not_before_ms IS NULL OR j.not_before_ms <= ?1) AND "
                           "(j.depends_on IS NULL OR d.status IN ('succeeded','running')) "
                           "ORDER BY j.priority DESC, j.position, j.created_at",
                           [&](Statement& st) { st.bind(1, now_ms); }));
    for (const auto& c : view.candidates) {
        if (c.depends_on && view.dependencies.count(*c.depends_on) == 0) {
            COSMOS_TRY(view.dependencies[*c.depends_on], dependency_state(db, *c.depends_on));
        }
    }
    COSMOS_TRY(view.warm, warm_hosts(db));
    COSMOS_TRY(view.work_in_flight, work_in_flight(db));
    return view;
}

core::Result<std::vector<JobRecord>> write_claim(const Database& db, const ClaimWrite& claim) {
    std::optional<std::string> batch_id;
    if (claim.job_ids.size() > 1) {
        batch_id = core::new_id(core::IdKind::batch);
    }
    std::vector<JobRecord> out;
    for (std::size_t i = 0; i < claim.job_ids.size(); ++i) {
        COSMOS_CHECK(set_job(
            db,
            "UPDATE jobs SET state = 'running', host = ?, gpu_ids = ?, lease_owner = "
            "?, lease_expires_ms = ?, attempts = attempts + 1, reason = NULL, "
            "batch_id = ?, batch_index = ?, gpus_released = 0, updated_at = ? "
            "WHERE id = ? AND state = 'queued'",
            [&](Statement& st) {
                st.bind(1, claim.host)
                    .bind(2, join_ids(claim.gpu_ids))
                    .bind(3, claim.owner)
                    .bind(4, claim.now_ms + claim.lease_ms)
                    .bind(5, batch_id)
                    .bind(6,
                          batch_id ? std::optional<std::int64_t>(static_cast<std::int64_t>(i))
                                   : std::nullopt)
                    .bind(7, core::now_iso())
                    .bind(8, claim.job_ids[i]);
            }));
        COSMOS_TRY(auto job, one_job(db, claim.job_ids[i]));
        if (job) {
            out.push_back(std::move(*job));
        }
    }
    return out;
}

core::Result<std::vector<JobRecord>> claim_expired_jobs(const Database& db,
                                                        const std::string& owner,
                                                        std::int64_t lease_ms,
                                                        std::int64_t now_ms) {
    std::vector<std::string> claimed;
    auto s = db.transaction([&]() -> core::Status {
        COSMOS_TRY(auto expired,
                   select_jobs(db,
                               "WHERE j.state = 'running' AND (j.lease_expires_ms IS NULL OR "
                               "j.lease_expires_ms < ?) ORDER BY j.lease_expires_ms LIMIT 1",
                               [&](Statement& st) { st.bind(1, now_ms); }));
        if (expired.empty()) {
            return {};
        }
        const auto& first = expired.front();
        if (first.batch_id) {
            // A batch is one model process: its jobs are taken over together.
            COSMOS_TRY(auto members,
                       select_jobs(db,
                                   "WHERE j.state = 'running' AND j.batch_id = ? ORDER BY "
                                   "j.batch_index",
                                   [&](Statement& st) { st.bind(1, *first.batch_id); }));
            for (const auto& m : members) {
                claimed.push_back(m.id);
            }
        } else {
            claimed.push_back(first.id);
        }
        for (const auto& id : claimed) {
            if (auto r = set_job(db,
                                 "UPDATE jobs SET lease_owner = ?, lease_expires_ms = ?, "
                                 "updated_at = ?, reason = 'taken over after its lease expired' "
                                 "WHERE id = ?",
                                 [&](Statement& st) {
                                     st.bind(1, owner)
                                         .bind(2, now_ms + lease_ms)
                                         .bind(3, core::now_iso())
                                         .bind(4, id);
                                 });
                !r) {
                return r;
            }
        }
        return {};
    });
    if (!s) {
        return fail(s.error());
    }
    std::vector<JobRecord> out;
    for (const auto& id : claimed) {
        COSMOS_TRY(auto job, one_job(db, id));
        if (job) {
            out.push_back(std::move(*job));
        }
    }
    return out;
}

core::Status release_gpus(const Database& db,
                          const std::vector<std::string>& job_ids,
                          const std::string& owner) {
    return db.transaction([&]() -> core::Status {
        for (const auto& id : job_ids) {
            if (auto r = set_job(
                    db,
                    "UPDATE jobs SET gpus_released = 1, updated_at = ? WHERE id = ? "
                    "AND lease_owner = ? AND state = 'running'",
                    [&](Statement& st) { st.bind(1, core::now_iso()).bind(2, id).bind(3, owner); });
                !r) {
                return r;
            }
        }
        return {};
    });
}

core::Result<bool> renew_lease(const Database& db,
                               const std::string& job_id,
                               const std::string& owner,
                               std::int64_t lease_ms,
                               std::int64_t now_ms) {
    bool renewed = false;
    auto s = db.transaction([&]() -> core::Status {
        if (auto r = set_job(db,
                             "UPDATE jobs SET lease_expires_ms = ? WHERE id = ? AND "
                             "lease_owner = ? AND state = 'running'",
                             [&](Statement& st) {
                                 st.bind(1, now_ms + lease_ms).bind(2, job_id).bind(3, owner);
                             });
            !r) {
            return r;
        }
        renewed = db.changes() > 0;
        return {};
    });
    if (!s) {
        return fail(s.error());
    }
    return renewed;
}

core::Result<JobState> release_job(const Database& db,
                                   const std::string& job_id,
                                   const std::string& owner,
                                   std::int64_t not_before_ms,
                                   const std::string& reason) {
    JobState result = JobState::queued;
    auto s = db.transaction([&]() -> core::Status {
        COSMOS_TRY(auto job, one_job(db, job_id));
        if (!job || job->state != JobState::running || job->lease_owner != owner) {
            return fail(ErrorCode::conflict,
                        fmt::format("job {} is not held by {}", job_id, owner));
        }
        result = job->attempts >= job->max_attempts ? JobState::failed : JobState::queued;
        std::string why = result == JobState::failed
                              ? fmt::format("gave up after {} attempts: {}", job->attempts, reason)
                              : reason;
        if (auto r = set_job(db,
                             "UPDATE jobs SET state = ?, gpu_ids = '', lease_owner = NULL, "
                             "lease_expires_ms = NULL, not_before_ms = ?, reason = ?, "
                             "updated_at = ? WHERE id = ?",
                             [&](Statement& st) {
                                 st.bind(1, to_string(result))
                                     .bind(2, not_before_ms)
                                     .bind(3, why)
                                     .bind(4, core::now_iso())
                                     .bind(5, job_id);
                             });
            !r) {
            return r;
        }
        if (result == JobState::failed) {
            COSMOS_CHECK(
                record_outcome(db, job->run_id, OutcomeRecord{std::nullopt, why, std::nullopt}));
            COSMOS_TRY(bool moved, transition_run(db, job->run_id, RunStatus::failed, why));
            (void)moved;
        }
        return {};
    });
    if (!s) {
        return fail(s.error());
    }
    return result;
}

core::Status complete_job(const Database& db,
                          const std::string& job_id,
                          const std::string& owner,
                          JobState state,
                          const std::string& reason) {
    return db.transaction([&]() -> core::Status {
        if (auto r = set_job(db,
                             "UPDATE jobs SET state = ?, gpu_ids = '', lease_owner = NULL, "
                             "lease_expires_ms = NULL, reason = ?, updated_at = ? WHERE id = ? "
                             "AND lease_owner = ? AND state = 'running'",
                             [&](Statement& st) {
                                 st.bind(1, to_string(state))
                                     .bind(2,
                                           reason.empty() ? std::optional<std::string>()
                                                          : std::optional<std::string>(reason))
                                     .bind(3, core::now_iso())
                                     .bind(4, job_id)
                                     .bind(5, owner);
                             });
            !r) {
            return r;
        }
        if (db.changes() == 0) {
            return fail(ErrorCode::conflict,
                        fmt::format("job {} is not held by {}", job_id, owner));
        }
        return {};
    });
}

core::Result<bool> cancel_job(const Database& db, const std::string& job_id) {
    bool cancelled_now = false;
    auto s = db.transaction([&]() -> core::Status {
        COSMOS_TRY(auto job, one_job(db, job_id));
        if (!job) {
            return fail(ErrorCode::not_found, fmt::format("no job {}", job_id));
        }
        if (job->state != JobState::queued && job->state != JobState::running) {
            return fail(ErrorCode::conflict,
                        fmt::format("job {} already ended ({})", job_id, to_string(job->state)));
        }
        if (job->state == JobState::running) {
            return set_job(db,
                           "UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ?",
                           [&](Statement& st) { st.bind(1, core::now_iso()).bind(2, job_id); });
        }
        cancelled_now = true;
        if (auto r = set_job(db,
                             "UPDATE jobs SET state = 'cancelled', reason = 'cancelled by user', "
                             "updated_at = ? WHERE id = ?",
                             [&](Statement& st) { st.bind(1, core::now_iso()).bind(2, job_id); });
            !r) {
            return r;
        }
        COSMOS_TRY(bool moved,
                   transition_run(db, job->run_id, RunStatus::cancelled, "cancelled by user"));
        (void)moved;
        return {};
    });
    if (!s) {
        return fail(s.error());
    }
    return cancelled_now;
}

core::Status set_job_paused(const Database& db, const std::string& job_id, bool paused) {
    return db.transaction([&]() -> core::Status {
        COSMOS_TRY(auto job, one_job(db, job_id));
        if (!job) {
            return fail(ErrorCode::not_found, fmt::format("no job {}", job_id));
        }
        if (job->state != JobState::queued) {
            return fail(ErrorCode::conflict,
                        fmt::format("job {} is {}; only queued jobs can be paused or resumed",
                                    job_id,
                                    to_string(job->state)));
        }
        return set_job(
            db, "UPDATE jobs SET paused = ?, updated_at = ? WHERE id = ?", [&](Statement& st) {
                st.bind(1, paused ? 1 : 0).bind(2, core::now_iso()).bind(3, job_id);
            });
    });
}

core::Status set_queue_paused(const Database& db, bool paused) {
    return db.transaction([&]() -> core::Status {
        return set_job(db,
                       "INSERT INTO queue_state (key, value) VALUES ('paused', ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       [&](Statement& st) { st.bind(1, paused ? "1" : "0"); });
    });
}

core::Result<bool> queue_paused(const Database& db) {
    COSMOS_TRY(auto st, db.prepare("SELECT value FROM queue_state WHERE key = 'paused'"));
    COSMOS_TRY(bool row, st.step());
    return row && st.text(0) == "1";
}

core::Status move_job(const Database& db,
                      const std::string& job_id,
                      std::optional<int> position,
                      std::optional<int> priority) {
    return db.transaction([&]() -> core::Status {
        COSMOS_TRY(auto job, one_job(db, job_id));
        if (!job) {
            return fail(ErrorCode::not_found, fmt::format("no job {}", job_id));
        }
        if (job->state != JobState::queued) {
            return fail(
                ErrorCode::conflict,
                fmt::format(
                    "job {} is {}; only queued jobs can be moved", job_id, to_string(job->state)));
        }
        COSMOS_TRY(auto queued,
                   select_jobs(db,
                               "WHERE j.state = 'queued' ORDER BY j.priority DESC, j.position, "
                               "j.created_at",
                               {}));
        std::erase_if(queued, [&](const JobRecord& j) { return j.id == job_id; });
        int new_priority = job->priority;
        std::size_t at = queued.size();
        if (priority) {
            new_priority = *priority;
            // End of that priority.
            at = 0;
            while (at < queued.size() && queued[at].priority >= new_priority) {
                ++at;
            }
        }
        if (position) {
            if (*position < 1) {
                return fail(ErrorCode::invalid_input, "positions start at 1");
            }
            at = std::min(static_cast<std::size_t>(*position - 1), queued.size());
            if (!priority) {
                new_priority = at < queued.size() ? queued[at].priority
                               : queued.empty()   ? job->priority
                                                  : queued.back().priority;
            }
        }
        JobRecord moved = *job;
        moved.priority = new_priority;
        queued.insert(queued.begin() + static_cast<std::ptrdiff_t>(at), moved);
        for (std::size_t i = 0; i < queued.size(); ++i) {
            if (auto r = set_job(db,
                                 "UPDATE jobs SET position = ?, priority = ? WHERE id = ?",
                                 [&](Statement& st) {
                                     st.bind(1, static_cast<double>(i + 1))
                                         .bind(2, queued[i].priority)
                                         .bind(3, queued[i].id);
                                 });
                !r) {
                return r;
            }
        }
        return {};
    });
}

core::Result<std::int64_t> pending_work(const Database& db, std::int64_t now_ms) {
    COSMOS_TRY(bool paused, queue_paused(db));
    COSMOS_TRY(auto st,
               db.prepare("SELECT count(*) FROM jobs WHERE (?1 = 0 AND state = 'queued' AND "
                          "paused = 0) OR state = 'running'"));
    st.bind(1, paused ? 1 : 0);
    (void)now_ms;
    COSMOS_TRY(bool row, st.step());
    return row ? st.int64(0) : 0;
}

core::Status mark_host_unhealthy(const Database& db,
                                 const std::string& host,
                                 std::int64_t until_ms,
                                 const std::string& reason) {
    return db.transaction([&]() -> core::Status {
        return set_job(db,
                       "INSERT INTO host_health (host, unhealthy_until_ms, reason) VALUES (?,?,?) "
                       "ON CONFLICT(host) DO UPDATE SET unhealthy_until_ms = excluded."
                       "unhealthy_until_ms, reason = excluded.reason",
                       [&](Statement& st) { st.bind(1, host).bind(2, until_ms).bind(3, reason); });
    });
}

core::Status mark_host_healthy(const Database& db, const std::string& host) {
    return db.transaction([&]() -> core::Status {
        return set_job(
            db, "DELETE FROM host_health WHERE host = ?", [&](Statement& st) { st.bind(1, host); });
    });
}

core::Result<std::set<std::string>> unhealthy_hosts(const Database& db, std::int64_t now_ms) {
    COSMOS_TRY(auto st, db.prepare("SELECT host FROM host_health WHERE unhealthy_until_ms > ?"));
    st.bind(1, now_ms);
    std::set<std::string> out;
    for (;;) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            break;
        }
        out.insert(st.text(0));
    }
    return out;
}

}  // namespace cosmos::store
