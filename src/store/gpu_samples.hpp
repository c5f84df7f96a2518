#pragma once
// GPU usage over time (docs/metrics.md "GPU samples"): what nvidia-smi reported per host and GPU
// while the host had work. Raw samples stay for an hour, then are merged into one-minute buckets
// (kept a day) and one-hour buckets (kept 30 days); a bucket keeps its sample count, means and
// peaks, so a mean over any window is the same before and after merging, up to bucket edges.
// Each sample lives in exactly one row at a time (merging moves it), so sums never count twice.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"

namespace cosmos::store {

struct GpuSample {
    std::string host;
    int gpu = 0;
    std::int64_t t_ms = 0;  // when it was read, ms since the epoch (this machine's clock)
    double util_percent = 0;
    double mem_used_mib = 0;
    double mem_total_mib = 0;
    std::optional<double> power_w;  // absent where the GPU does not report it ([N/A])
    std::optional<double> temp_c;
};

// One row: a raw sample (span_s 0) or a bucket of n samples starting at t_ms.
struct GpuSampleRow {
    int gpu = 0;
    std::int64_t t_ms = 0;
    int span_s = 0;
    std::int64_t n = 0;
    double util_mean = 0, util_max = 0;
    double mem_mean_mib = 0, mem_max_mib = 0, mem_total_mib = 0;
    std::optional<double> power_mean_w, power_max_w, temp_max_c;
};

// Mean and peak over a window (what a run shows).
struct GpuUsage {
    std::int64_t samples = 0;  // 0: nothing was sampled then
    double util_mean = 0, util_peak = 0;
    double mem_mean_mib = 0, mem_peak_mib = 0;
};

// Ages at which rows are merged or dropped (docs/metrics.md).
struct GpuRetention {
    std::int64_t raw_ms = 3'600'000;           // raw samples → 60 s buckets after an hour
    std::int64_t minute_ms = 86'400'000;       // 60 s buckets → 3600 s buckets after a day
    std::int64_t hour_ms = 30 * 86'400'000LL;  // 3600 s buckets dropped after 30 days
};

// Stores raw samples in one transaction (a sample already stored at the same time is replaced).
core::Status insert_gpu_samples(const Database& db, const std::vector<GpuSample>& samples);

// Merges and drops rows by age at `now_ms` in one transaction.
core::Status compact_gpu_samples(const Database& db,
                                 std::int64_t now_ms,
                                 const GpuRetention& keep = {});

// Mean and peak utilisation and memory of `gpus` on `host` (all of its GPUs when empty) over
// [from_ms, to_ms].
core::Result<GpuUsage> gpu_usage(const Database& db,
                                 const std::string& host,
                                 const std::vector<int>& gpus,
                                 std::int64_t from_ms,
                                 std::int64_t to_ms);

// The rows of `host` in [from_ms, to_ms], by time then GPU (at most `limit`, the newest kept).
core::Result<std::vector<GpuSampleRow>> gpu_sample_rows(const Database& db,
                                                        const std::string& host,
                                                        std::int64_t from_ms,
                                                        std::int64_t to_ms,
                                                        std::int64_t limit = 20000);

// "0,1,3" → {0, 1, 3}; empty or malformed parts are skipped.
std::vector<int> parse_gpu_ids(std::string_view text);
std::string format_gpu_ids(const std::vector<int>& ids);

}  // namespace cosmos::store
