#include "store/alert_store.hpp"

#include <fmt/format.h>

#include "core/clock.hpp"

namespace cosmos::store {

namespace {

constexpr const char* k_alert_columns =
    "a.id, a.rule, a.condition, a.subject, a.state, a.host, a.run_id, a.summary, a.fired_at, "
    "a.resolved_at";

AlertRecord alert_from(const Statement& st, int first = 0) {
    AlertRecord a;
    a.id = st.int64(first);
    a.rule = st.text(first + 1);
    a.condition = st.text(first + 2);
    a.subject = st.text(first + 3);
    a.state = st.text(first + 4);
    a.host = st.opt_text(first + 5);
    a.run_id = st.opt_text(first + 6);
    a.summary = st.text(first + 7);
    a.fired_at = st.text(first + 8);
    a.resolved_at = st.opt_text(first + 9);
    return a;
}

core::Status queue_deliveries(const Database& db,
                              std::int64_t alert_id,
                              const std::string& status,
                              const std::vector<std::string>& sinks,
                              std::int64_t now_ms) {
    for (const auto& sink : sinks) {
        COSMOS_TRY(auto st,
                   db.prepare("INSERT OR IGNORE INTO alert_deliveries (alert_id, sink, status, "
                              "state, next_at_ms) VALUES (?, ?, ?, 'pending', ?)"));
        st.bind(1, alert_id).bind(2, sink).bind(3, status).bind(4, now_ms);
        COSMOS_CHECK(st.run());
    }
    return {};
}

core::Result<std::vector<AlertRecord>> select_alerts(const Database& db,
                                                     const std::string& where,
                                                     const std::function<void(Statement&)>& bind) {
    COSMOS_TRY(auto st,
               db.prepare(fmt::format("SELECT {} FROM alerts a WHERE {}", k_alert_columns, where)));
    bind(st);
    std::vector<AlertRecord> out;
    for (;;) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            return out;
        }
        out.push_back(alert_from(st));
    }
}

core::Status exec_bound(const Database& db,
                        const std::string& sql,
                        const std::function<void(Statement&)>& bind) {
    COSMOS_TRY(auto st, db.prepare(sql));
    bind(st);
    return st.run();
}

}  // namespace

core::Result<std::optional<AlertRecord>> fire_alert(const Database& db,
                                                    const std::string& rule,
                                                    const std::string& condition,
                                                    bool event,
                                                    const AlertFinding& f,
                                                    const std::vector<std::string>& sinks,
                                                    std::int64_t now_ms) {
    std::optional<AlertRecord> fired;
    COSMOS_CHECK(db.transaction([&]() -> core::Status {
        COSMOS_TRY(auto st,
                   db.prepare("INSERT OR IGNORE INTO alerts (rule, condition, subject, state, "
                              "host, run_id, summary, fired_at) VALUES (?,?,?,?,?,?,?,?)"));
        AlertRecord a;
        a.rule = rule;
        a.condition = condition;
        a.subject = f.subject;
        a.state = event ? "event" : "firing";
        a.host = f.host;
        a.run_id = f.run_id;
        a.summary = f.summary;
        a.fired_at = core::iso_from_ms(now_ms);
        st.bind(1, a.rule)
            .bind(2, a.condition)
            .bind(3, a.subject)
            .bind(4, a.state)
            .bind(5, a.host)
            .bind(6, a.run_id)
            .bind(7, a.summary)
            .bind(8, a.fired_at);
        COSMOS_CHECK(st.run());
        if (db.changes() == 0) {
            return {};
        }
        COSMOS_TRY(auto id, db.prepare("SELECT last_insert_rowid()"));
        COSMOS_TRY(bool row, id.step());
        a.id = row ? id.int64(0) : 0;
        COSMOS_CHECK(queue_deliveries(db, a.id, "firing", sinks, now_ms));
        fired = std::move(a);
        return {};
    }));
    return fired;
}

core::Result<std::vector<AlertRecord>> resolve_alerts(const Database& db,
                                                      const std::string& rule,
                                                      const std::set<std::string>& still_true,
                                                      const std::vector<std::string>& sinks,
                                                      std::int64_t now_ms) {
    std::vector<AlertRecord> resolved;
    COSMOS_CHECK(db.transaction([&]() -> core::Status {
        COSMOS_TRY(auto firing,
                   select_alerts(db, "a.rule = ? AND a.state = 'firing'", [&](auto& st) {
                       st.bind(1, rule);
                   }));
        const std::string at = core::iso_from_ms(now_ms);
        for (auto& a : firing) {
            if (still_true.count(a.subject) > 0) {
                continue;
            }
            COSMOS_CHECK(exec_bound(db,
                                    "UPDATE alerts SET state = 'resolved', resolved_at = ? "
                                    "WHERE id = ? AND state = 'firing'",
                                    [&](Statement& st) { st.bind(1, at).bind(2, a.id); }));
            if (db.changes() == 0) {
                continue;
            }
            COSMOS_CHECK(queue_deliveries(db, a.id, "resolved", sinks, now_ms));
            a.state = "resolved";
            a.resolved_at = at;
            resolved.push_back(std::move(a));
        }
        return {};
    }));
    return resolved;
}

core::Result<std::int64_t> prune_resolved_alerts(const Database& db, std::int64_t before_ms) {
    COSMOS_CHECK(exec_bound(db,
                            "DELETE FROM alerts WHERE state = 'resolved' AND resolved_at < ? "
                            "AND NOT EXISTS (SELECT 1 FROM alert_deliveries d WHERE "
                            "d.alert_id = alerts.id AND d.state = 'pending')",
                            [&](Statement& st) { st.bind(1, core::iso_from_ms(before_ms)); }));
    return db.changes();
}

core::Result<std::int64_t> resolve_orphans(const Database& db,
                                           const std::set<std::string>& rules,
                                           std::int64_t now_ms) {
    std::int64_t n = 0;
    COSMOS_CHECK(db.transaction([&]() -> core::Status {
        COSMOS_TRY(auto firing, select_alerts(db, "a.state = 'firing'", [](Statement&) {}));
        for (const auto& a : firing) {
            if (rules.count(a.rule) > 0) {
                continue;
            }
            COSMOS_CHECK(exec_bound(
                db,
                "UPDATE alerts SET state = 'resolved', resolved_at = ? "
                "WHERE id = ?",
                [&](Statement& st) { st.bind(1, core::iso_from_ms(now_ms)).bind(2, a.id); }));
            // Its pending deliveries go nowhere now.
            COSMOS_CHECK(exec_bound(db,
                                    "UPDATE alert_deliveries SET state = 'failed', last_error = "
                                    "'the rule was removed' WHERE alert_id = ? AND state = "
                                    "'pending'",
                                    [&](Statement& st) { st.bind(1, a.id); }));
            ++n;
        }
        return {};
    }));
    return n;
}

core::Result<std::vector<AlertRecord>> list_alerts(const Database& db,
                                                   bool all,
                                                   const std::string& events_since,
                                                   int limit) {
    std::string where =
        all ? "1" : "a.state = 'firing' OR (a.state = 'event' AND a.fired_at >= ?1)";
    return select_alerts(
        db,
        fmt::format("{} ORDER BY a.fired_at DESC, a.id DESC LIMIT {}", where, limit),
        [&](Statement& st) {
            if (!all) {
                st.bind(1, events_since);
            }
        });
}

core::Result<std::vector<DeliveryRecord>> claim_deliveries(const Database& db,
                                                           std::int64_t now_ms,
                                                           std::int64_t claim_ms,
                                                           int limit) {
    std::vector<DeliveryRecord> out;
    COSMOS_CHECK(db.transaction([&]() -> core::Status {
        COSMOS_TRY(auto st,
                   db.prepare(fmt::format(
                       "SELECT d.id, d.sink, d.status, d.state, d.attempts, d.next_at_ms, "
                       "d.last_error, {} FROM alert_deliveries d JOIN alerts a ON a.id = "
                       "d.alert_id WHERE d.state = 'pending' AND d.next_at_ms <= ?1 AND "
                       "(d.claimed_until_ms IS NULL OR d.claimed_until_ms < ?1) "
                       "ORDER BY d.next_at_ms, d.id LIMIT {}",
                       k_alert_columns,
                       limit)));
        st.bind(1, now_ms);
        for (;;) {
            COSMOS_TRY(bool row, st.step());
            if (!row) {
                break;
            }
            DeliveryRecord d;
            d.id = st.int64(0);
            d.sink = st.text(1);
            d.status = st.text(2);
            d.state = st.text(3);
            d.attempts = static_cast<int>(st.int64(4));
            d.next_at_ms = st.int64(5);
            d.last_error = st.opt_text(6);
            d.alert = alert_from(st, 7);
            out.push_back(std::move(d));
        }
        for (const auto& d : out) {
            COSMOS_CHECK(
                exec_bound(db,
                           "UPDATE alert_deliveries SET claimed_until_ms = ? WHERE id = ?",
                           [&](Statement& s) { s.bind(1, now_ms + claim_ms).bind(2, d.id); }));
        }
        return {};
    }));
    return out;
}

core::Status delivery_done(const Database& db, std::int64_t id, std::int64_t now_ms) {
    return exec_bound(db,
                      "UPDATE alert_deliveries SET state = 'delivered', attempts = attempts + 1, "
                      "delivered_at = ?, claimed_until_ms = NULL, last_error = NULL WHERE id = ?",
                      [&](Statement& st) { st.bind(1, core::iso_from_ms(now_ms)).bind(2, id); });
}

core::Status delivery_failed(const Database& db,
                             std::int64_t id,
                             const std::string& error,
                             bool give_up,
                             std::int64_t next_at_ms) {
    return exec_bound(db,
                      "UPDATE alert_deliveries SET state = ?, attempts = attempts + 1, "
                      "next_at_ms = ?, claimed_until_ms = NULL, last_error = ? WHERE id = ?",
                      [&](Statement& st) {
                          st.bind(1, give_up ? "failed" : "pending")
                              .bind(2, next_at_ms)
                              .bind(3, error)
                              .bind(4, id);
                      });
}

core::Status delivery_release(const Database& db, std::int64_t id) {
    return exec_bound(db,
                      "UPDATE alert_deliveries SET claimed_until_ms = NULL WHERE id = ?",
                      [&](Statement& st) { st.bind(1, id); });
}

core::Result<std::vector<DeliveryRecord>> deliveries_of(const Database& db, std::int64_t alert_id) {
    COSMOS_TRY(auto st,
               db.prepare("SELECT id, sink, status, state, attempts, next_at_ms, last_error FROM "
                          "alert_deliveries WHERE alert_id = ? ORDER BY id"));
    st.bind(1, alert_id);
    std::vector<DeliveryRecord> out;
    for (;;) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            return out;
        }
        DeliveryRecord d;
        d.id = st.int64(0);
        d.sink = st.text(1);
        d.status = st.text(2);
        d.state = st.text(3);
        d.attempts = static_cast<int>(st.int64(4));
        d.next_at_ms = st.int64(5);
        d.last_error = st.opt_text(6);
        d.alert.id = alert_id;
        out.push_back(std::move(d));
    }
}

core::Result<std::string> rule_since(const Database& db,
                                     const std::string& rule,
                                     std::int64_t now_ms) {
    COSMOS_CHECK(exec_bound(
        db, "INSERT OR IGNORE INTO alert_rules (rule, since) VALUES (?, ?)", [&](Statement& st) {
            st.bind(1, rule).bind(2, core::iso_from_ms(now_ms));
        }));
    COSMOS_TRY(auto st, db.prepare("SELECT since FROM alert_rules WHERE rule = ?"));
    st.bind(1, rule);
    COSMOS_TRY(bool row, st.step());
    return row ? st.text(0) : core::iso_from_ms(now_ms);
}

core::Result<std::vector<FailedRun>> failed_runs_to_alert(const Database& db,
                                                          const std::string& rule,
                                                          const std::string& since) {
    COSMOS_TRY(auto st,
               db.prepare("SELECT r.id, r.host, r.error, r.finished_at FROM runs r WHERE "
                          "r.status = 'failed' AND r.finished_at >= ?1 AND NOT EXISTS (SELECT 1 "
                          "FROM alerts a WHERE a.rule = ?2 AND a.subject = r.id) ORDER BY "
                          "r.finished_at LIMIT 200"));
    st.bind(1, since).bind(2, rule);
    std::vector<FailedRun> out;
    for (;;) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            return out;
        }
        out.push_back({st.text(0), st.opt_text(1), st.opt_text(2), st.text(3)});
    }
}

core::Result<std::vector<RunningRun>> observe_running_runs(const Database& db,
                                                           std::int64_t now_ms) {
    std::vector<RunningRun> out;
    COSMOS_CHECK(db.transaction([&]() -> core::Status {
        COSMOS_CHECK(
            db.exec("DELETE FROM alert_progress WHERE run_id NOT IN (SELECT id FROM runs "
                    "WHERE status = 'running')"));
        COSMOS_TRY(auto st,
                   db.prepare("SELECT r.id, r.host, r.progress, r.started_at, p.progress, "
                              "p.changed_ms FROM runs r LEFT JOIN alert_progress p ON p.run_id = "
                              "r.id WHERE r.status = 'running'"));
        for (;;) {
            COSMOS_TRY(bool row, st.step());
            if (!row) {
                break;
            }
            RunningRun r;
            r.id = st.text(0);
            r.host = st.opt_text(1);
            r.progress = st.real(2);
            bool seen = !st.is_null(4);
            if (seen && st.real(4) == r.progress) {
                r.changed_ms = st.int64(5);
            } else if (!seen && r.progress <= 0) {
                std::int64_t started = core::ms_from_iso(st.opt_text(3).value_or(""));
                r.changed_ms = started > 0 ? started : now_ms;
            } else {
                r.changed_ms = now_ms;
            }
            out.push_back(std::move(r));
        }
        for (const auto& r : out) {
            COSMOS_CHECK(exec_bound(
                db,
                "INSERT INTO alert_progress (run_id, progress, changed_ms) VALUES (?1, ?2, ?3) "
                "ON CONFLICT(run_id) DO UPDATE SET progress = ?2, changed_ms = ?3",
                [&](Statement& s) { s.bind(1, r.id).bind(2, r.progress).bind(3, r.changed_ms); }));
        }
        return {};
    }));
    return out;
}

core::Result<QueueFacts> queue_facts(const Database& db, std::int64_t now_ms) {
    QueueFacts q;
    COSMOS_TRY(auto paused, db.prepare("SELECT value FROM queue_state WHERE key = 'paused'"));
    COSMOS_TRY(bool prow, paused.step());
    if (prow && paused.text(0) == "1") {
        return q;  // a paused queue is not stalled: it was told to wait
    }
    COSMOS_TRY(auto st,
               db.prepare("SELECT count(*), min(created_at) FROM jobs WHERE state = 'queued' AND "
                          "paused = 0 AND cancel_requested = 0 AND (not_before_ms IS NULL OR "
                          "not_before_ms <= ?)"));
    st.bind(1, now_ms);
    COSMOS_TRY(bool row, st.step());
    if (row) {
        q.waiting = st.int64(0);
        q.oldest_waiting_ms = st.is_null(1) ? 0 : core::ms_from_iso(st.text(1));
    }
    COSMOS_TRY(auto ev,
               db.prepare("SELECT max(at) FROM run_events WHERE status IN ('running', "
                          "'succeeded', 'failed', 'cancelled')"));
    COSMOS_TRY(bool erow, ev.step());
    if (erow && !ev.is_null(0)) {
        q.last_movement_ms = std::max<std::int64_t>(0, core::ms_from_iso(ev.text(0)));
    }
    return q;
}

core::Result<std::vector<GpuWindow>> gpu_windows(const Database& db, std::int64_t since_ms) {
    COSMOS_TRY(auto st,
               db.prepare("SELECT host, gpu, max(util_max), min(t_ms), max(t_ms), sum(n) FROM "
                          "gpu_samples WHERE t_ms >= ? GROUP BY host, gpu ORDER BY host, gpu"));
    st.bind(1, since_ms);
    std::vector<GpuWindow> out;
    for (;;) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            return out;
        }
        out.push_back({st.text(0),
                       static_cast<int>(st.int64(1)),
                       st.real(2),
                       st.int64(3),
                       st.int64(4),
                       st.int64(5)});
    }
}

core::Result<bool> claim_probe(const Database& db,
                               const std::string& host,
                               std::int64_t every_ms,
                               std::int64_t now_ms) {
    bool mine = false;
    COSMOS_CHECK(db.transaction([&]() -> core::Status {
        COSMOS_CHECK(exec_bound(db,
                                "INSERT OR IGNORE INTO alert_probes (host) VALUES (?)",
                                [&](Statement& st) { st.bind(1, host); }));
        COSMOS_CHECK(exec_bound(db,
                                "UPDATE alert_probes SET claimed_until_ms = ?1 WHERE host = ?2 "
                                "AND probed_ms <= ?3 AND (claimed_until_ms IS NULL OR "
                                "claimed_until_ms < ?4)",
                                [&](Statement& st) {
                                    st.bind(1, now_ms + 120'000)
                                        .bind(2, host)
                                        .bind(3, now_ms - every_ms)
                                        .bind(4, now_ms);
                                }));
        mine = db.changes() > 0;
        return {};
    }));
    return mine;
}

core::Status record_probe(const Database& db,
                          const std::string& host,
                          bool reachable,
                          std::optional<std::int64_t> free_bytes,
                          const std::optional<std::string>& error,
                          std::int64_t now_ms) {
    return exec_bound(db,
                      "UPDATE alert_probes SET probed_ms = ?1, claimed_until_ms = NULL, "
                      "reachable = ?2, free_bytes = ?3, error = ?4, unreachable_since_ms = CASE "
                      "WHEN ?2 = 1 THEN NULL ELSE COALESCE(unreachable_since_ms, ?1) END WHERE "
                      "host = ?5",
                      [&](Statement& st) {
                          st.bind(1, now_ms)
                              .bind(2, reachable ? 1 : 0)
                              .bind(3, free_bytes)
                              .bind(4, error)
                              .bind(5, host);
                      });
}

core::Result<std::map<std::string, HostProbe>> host_probes(const Database& db) {
    COSMOS_TRY(auto st,
               db.prepare("SELECT host, probed_ms, reachable, unreachable_since_ms, free_bytes, "
                          "error FROM alert_probes WHERE probed_ms > 0"));
    std::map<std::string, HostProbe> out;
    for (;;) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            return out;
        }
        HostProbe p;
        p.host = st.text(0);
        p.probed_ms = st.int64(1);
        if (!st.is_null(2)) {
            p.reachable = st.int64(2) != 0;
        }
        p.unreachable_since_ms = st.opt_int64(3);
        p.free_bytes = st.opt_int64(4);
        p.error = st.opt_text(5);
        out[p.host] = std::move(p);
    }
}

}  // namespace cosmos::store
