#pragma once
// What /metrics reports from the database (web/metrics.hpp renders it): runs by status and
// model, the queue, worker leases, model loads, staged bytes and the durations runs recorded,
// read in a few aggregate queries (no per-run rows: a scrape costs the same with 100k runs).

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"

namespace cosmos::store {

// A histogram over one recorded duration: counts[i] runs took at most bounds[i] seconds.
struct DurationHistogram {
    std::vector<double> bounds;        // upper bounds, ascending (the +Inf bucket is `count`)
    std::vector<std::int64_t> counts;  // cumulative, one per bound
    std::int64_t count = 0;
    double sum = 0;
};

struct MetricsSnapshot {
    std::map<std::pair<std::string, std::string>, std::int64_t> runs;  // (status, model) -> n
    std::map<std::string, std::int64_t> jobs;                          // queue job state -> n
    std::int64_t paused_jobs = 0;          // queued jobs paused one by one
    bool queue_paused = false;             // the whole queue is paused
    double oldest_queued_age_seconds = 0;  // 0: nothing queued
    std::int64_t live_leases = 0;          // running jobs whose worker lease has not expired
    std::map<std::string, std::int64_t> model_loads;       // model -> loads (a batch is one)
    std::int64_t staged_bytes = 0;                         // bytes uploaded for runs, all time
    std::map<std::string, DurationHistogram> run_seconds;  // model -> model time of finished runs
    DurationHistogram upload_seconds;
    DurationHistogram download_seconds;
    std::vector<std::string> unhealthy_hosts;  // routed around by the queue right now
};

// Bucket bounds (seconds) of the duration histograms.
const std::vector<double>& run_duration_bounds();
const std::vector<double>& transfer_duration_bounds();

// Reads the snapshot at `now_ms` (milliseconds since the epoch, for lease and health expiry).
core::Result<MetricsSnapshot> metrics_snapshot(const Database& db, std::int64_t now_ms);

}  // namespace cosmos::store
