#include "store/metrics_store.hpp"

#include <fmt/format.h>

#include "core/clock.hpp"
#include "store/queue_store.hpp"

namespace cosmos::store {

namespace {

// Fills `h` from one aggregate query over `column` of the runs selected by `where`: a SUM per
// bucket, the count and the sum. Grouped by model when `by_model` is set.
core::Status fill_histograms(const Database& db,
                             const std::string& column,
                             const std::vector<double>& bounds,
                             const std::string& where,
                             const std::function<DurationHistogram&(const std::string&)>& target) {
    std::string sql = "SELECT model, COUNT(" + column + "), COALESCE(SUM(" + column + "), 0)";
    for (double b : bounds) {
        sql += fmt::format(", SUM({} <= {})", column, b);
    }
    sql += " FROM runs WHERE " + column + " IS NOT NULL AND " + where + " GROUP BY model";
    COSMOS_TRY(auto st, db.prepare(sql));
    for (;;) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            return {};
        }
        DurationHistogram& h = target(st.text(0));
        if (h.bounds.empty()) {
            h.bounds = bounds;
            h.counts.assign(bounds.size(), 0);
        }
        h.count += st.int64(1);
        h.sum += st.real(2);
        for (std::size_t i = 0; i < bounds.size(); ++i) {
            h.counts[i] +=
                st.is_null(static_cast<int>(3 + i)) ? 0 : st.int64(static_cast<int>(3 + i));
        }
    }
}

core::Status read_runs(const Database& db, MetricsSnapshot& m) {
    COSMOS_TRY(auto st,
               db.prepare("SELECT status, model, COUNT(*) FROM runs GROUP BY status, model"));
    for (;;) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            break;
        }
        m.runs[{st.text(0), st.text(1)}] = st.int64(2);
    }
    // A model load is a run that ran on its own, or a batch (one load for all its lines).
    COSMOS_TRY(auto loads,
               db.prepare("SELECT model, COUNT(*) FROM (SELECT model, COALESCE(batch_id, id) AS "
                          "load FROM runs WHERE started_at IS NOT NULL GROUP BY model, load) "
                          "GROUP BY model"));
    for (;;) {
        COSMOS_TRY(bool row, loads.step());
        if (!row) {
            break;
        }
        m.model_loads[loads.text(0)] = loads.int64(1);
    }
    COSMOS_TRY(auto bytes, db.prepare("SELECT COALESCE(SUM(uploaded_bytes), 0) FROM runs"));
    COSMOS_TRY(bool row, bytes.step());
    m.staged_bytes = row ? bytes.int64(0) : 0;
    const std::string finished = "status IN ('succeeded', 'failed', 'cancelled')";
    COSMOS_CHECK(fill_histograms(
        db,
        "run_seconds",
        run_duration_bounds(),
        finished,
        [&](const std::string& model) -> DurationHistogram& { return m.run_seconds[model]; }));
    COSMOS_CHECK(fill_histograms(
        db, "upload_seconds", transfer_duration_bounds(), "1", [&](const std::string&) -> auto& {
            return m.upload_seconds;
        }));
    return fill_histograms(
        db, "download_seconds", transfer_duration_bounds(), "1", [&](const std::string&) -> auto& {
            return m.download_seconds;
        });
}

core::Status read_queue(const Database& db, std::int64_t now_ms, MetricsSnapshot& m) {
    COSMOS_TRY(auto st,
               db.prepare("SELECT state, COUNT(*), SUM(paused), MIN(created_at), "
                          "SUM(lease_expires_ms > ?) FROM jobs "
                          "WHERE state IN ('queued', 'running') GROUP BY state"));
    st.bind(1, now_ms);
    for (;;) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            break;
        }
        const std::string state = st.text(0);
        m.jobs[state] = st.int64(1);
        if (state == "queued") {
            m.paused_jobs = st.is_null(2) ? 0 : st.int64(2);
            m.oldest_queued_age_seconds = core::seconds_since_iso(st.opt_text(3));
        } else {
            m.live_leases = st.is_null(4) ? 0 : st.int64(4);
        }
    }
    COSMOS_TRY(m.queue_paused, queue_paused(db));
    COSMOS_TRY(
        auto health,
        db.prepare("SELECT host FROM host_health WHERE unhealthy_until_ms > ? ORDER BY host"));
    health.bind(1, now_ms);
    for (;;) {
        COSMOS_TRY(bool row, health.step());
        if (!row) {
            return {};
        }
        m.unhealthy_hosts.push_back(health.text(0));
    }
}

}  // namespace

const std::vector<double>& run_duration_bounds() {
    static const std::vector<double> b{5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400};
    return b;
}

const std::vector<double>& transfer_duration_bounds() {
    static const std::vector<double> b{0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600};
    return b;
}

core::Result<MetricsSnapshot> metrics_snapshot(const Database& db, std::int64_t now_ms) {
    MetricsSnapshot m;
    COSMOS_CHECK(read_runs(db, m));
    COSMOS_CHECK(read_queue(db, now_ms, m));
    // Every known state and a zero for it: a series that vanishes reads as "no data", not 0.
    for (const char* state : {"queued", "running"}) {
        m.jobs.try_emplace(state, 0);
    }
    return m;
}

}  // namespace cosmos::store
