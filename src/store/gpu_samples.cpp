#include "store/gpu_samples.hpp"

#include <charconv>

#include <fmt/format.h>

namespace cosmos::store {

namespace {

// Merges the rows of span `from_span` older than `cutoff_ms` into buckets of `to_span` seconds
// (added to a bucket already there), then removes them.
core::Status merge_level(const Database& db, int from_span, int to_span, std::int64_t cutoff_ms) {
    const std::int64_t width = static_cast<std::int64_t>(to_span) * 1000;
    COSMOS_TRY(
        auto merge,
        db.prepare(
            "INSERT INTO gpu_samples (host, gpu, span_s, t_ms, n, util_mean, util_max, "
            "mem_mean_mib, mem_max_mib, mem_total_mib, power_mean_w, power_max_w, temp_max_c) "
            "SELECT host, gpu, ?1, (t_ms / ?2) * ?2, SUM(n), SUM(util_mean * n) / SUM(n), "
            "MAX(util_max), SUM(mem_mean_mib * n) / SUM(n), MAX(mem_max_mib), MAX(mem_total_mib), "
            "SUM(power_mean_w * n) / SUM(CASE WHEN power_mean_w IS NULL THEN 0 ELSE n END), "
            "MAX(power_max_w), MAX(temp_max_c) FROM gpu_samples "
            "WHERE span_s = ?3 AND t_ms < ?4 GROUP BY host, gpu, (t_ms / ?2) "
            "ON CONFLICT(host, span_s, t_ms, gpu) DO UPDATE SET "
            "util_mean = (util_mean * n + excluded.util_mean * excluded.n) / (n + excluded.n), "
            "util_max = MAX(util_max, excluded.util_max), "
            "mem_mean_mib = (mem_mean_mib * n + excluded.mem_mean_mib * excluded.n) / "
            "(n + excluded.n), "
            "mem_max_mib = MAX(mem_max_mib, excluded.mem_max_mib), "
            "mem_total_mib = MAX(mem_total_mib, excluded.mem_total_mib), "
            "power_mean_w = CASE WHEN excluded.power_mean_w IS NULL THEN power_mean_w "
            "WHEN power_mean_w IS NULL THEN excluded.power_mean_w ELSE "
            "(power_mean_w * n + excluded.power_mean_w * excluded.n) / (n + excluded.n) END, "
            "power_max_w = MAX(COALESCE(power_max_w, excluded.power_max_w), "
            "COALESCE(excluded.power_max_w, power_max_w)), "
            "temp_max_c = MAX(COALESCE(temp_max_c, excluded.temp_max_c), "
            "COALESCE(excluded.temp_max_c, temp_max_c)), "
            "n = n + excluded.n"));
    merge.bind(1, to_span).bind(2, width).bind(3, from_span).bind(4, cutoff_ms);
    COSMOS_CHECK(merge.run());
    COSMOS_TRY(auto drop, db.prepare("DELETE FROM gpu_samples WHERE span_s = ? AND t_ms < ?"));
    drop.bind(1, from_span).bind(2, cutoff_ms);
    return drop.run();
}

}  // namespace

core::Status insert_gpu_samples(const Database& db, const std::vector<GpuSample>& samples) {
    if (samples.empty()) {
        return {};
    }
    return db.transaction([&]() -> core::Status {
        for (const auto& s : samples) {
            COSMOS_TRY(auto st,
                       db.prepare("INSERT OR REPLACE INTO gpu_samples (host, gpu, span_s, t_ms, n, "
                                  "util_mean, util_max, mem_mean_mib, mem_max_mib, mem_total_mib, "
                                  "power_mean_w, power_max_w, temp_max_c) "
                                  "VALUES (?, ?, 0, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)"));
            st.bind(1, s.host).bind(2, s.gpu).bind(3, s.t_ms);
            st.bind(4, s.util_percent).bind(5, s.util_percent);
            st.bind(6, s.mem_used_mib).bind(7, s.mem_used_mib).bind(8, s.mem_total_mib);
            if (s.power_w) {
                st.bind(9, *s.power_w).bind(10, *s.power_w);
            } else {
                st.bind(9, std::nullopt).bind(10, std::nullopt);
            }
            if (s.temp_c) {
                st.bind(11, *s.temp_c);
            } else {
                st.bind(11, std::nullopt);
            }
            COSMOS_CHECK(st.run());
        }
        return {};
    });
}

core::Status compact_gpu_samples(const Database& db,
                                 std::int64_t now_ms,
                                 const GpuRetention& keep) {
    return db.transaction([&]() -> core::Status {
        COSMOS_CHECK(merge_level(db, 0, 60, now_ms - keep.raw_ms));
        COSMOS_CHECK(merge_level(db, 60, 3600, now_ms - keep.minute_ms));
        COSMOS_TRY(auto drop,
                   db.prepare("DELETE FROM gpu_samples WHERE span_s = 3600 AND t_ms < ?"));
        drop.bind(1, now_ms - keep.hour_ms);
        return drop.run();
    });
}

namespace {

// " AND gpu IN (?, ?)" for `gpus` (nothing when empty), its parameters from `first`.
std::string gpu_filter(const std::vector<int>& gpus, int first) {
    if (gpus.empty()) {
        return "";
    }
    std::string out = " AND gpu IN (";
    for (std::size_t i = 0; i < gpus.size(); ++i) {
        out += fmt::format("{}?{}", i == 0 ? "" : ", ", first + static_cast<int>(i));
    }
    return out + ")";
}

}  // namespace

core::Result<GpuUsage> gpu_usage(const Database& db,
                                 const std::string& host,
                                 const std::vector<int>& gpus,
                                 std::int64_t from_ms,
                                 std::int64_t to_ms) {
    // A bucket counts when any part of it lies in the window.
    COSMOS_TRY(auto st,
               db.prepare("SELECT SUM(n), SUM(util_mean * n) / SUM(n), MAX(util_max), "
                          "SUM(mem_mean_mib * n) / SUM(n), MAX(mem_max_mib) FROM gpu_samples "
                          "WHERE host = ?1 AND t_ms <= ?3 AND t_ms + span_s * 1000 >= ?2" +
                          gpu_filter(gpus, 4)));
    st.bind(1, host).bind(2, from_ms).bind(3, to_ms);
    for (std::size_t i = 0; i < gpus.size(); ++i) {
        st.bind(4 + static_cast<int>(i), gpus[i]);
    }
    GpuUsage u;
    COSMOS_TRY(bool row, st.step());
    if (row && !st.is_null(0)) {
        u.samples = st.int64(0);
        u.util_mean = st.real(1);
        u.util_peak = st.real(2);
        u.mem_mean_mib = st.real(3);
        u.mem_peak_mib = st.real(4);
    }
    return u;
}

core::Result<std::vector<GpuSampleRow>> gpu_sample_rows(const Database& db,
                                                        const std::string& host,
                                                        std::int64_t from_ms,
                                                        std::int64_t to_ms,
                                                        std::int64_t limit) {
    COSMOS_TRY(
        auto st,
        db.prepare("SELECT * FROM (SELECT gpu, t_ms, span_s, n, util_mean, util_max, "
                   "mem_mean_mib, mem_max_mib, mem_total_mib, power_mean_w, power_max_w, "
                   "temp_max_c FROM gpu_samples WHERE host = ? AND t_ms + span_s * 1000 >= ? "
                   "AND t_ms <= ? ORDER BY t_ms DESC, gpu LIMIT ?) ORDER BY t_ms, gpu"));
    st.bind(1, host).bind(2, from_ms).bind(3, to_ms).bind(4, limit);
    std::vector<GpuSampleRow> out;
    auto opt = [&](int col) {
        return st.is_null(col) ? std::optional<double>() : std::optional<double>(st.real(col));
    };
    for (;;) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            return out;
        }
        GpuSampleRow r;
        r.gpu = static_cast<int>(st.int64(0));
        r.t_ms = st.int64(1);
        r.span_s = static_cast<int>(st.int64(2));
        r.n = st.int64(3);
        r.util_mean = st.real(4);
        r.util_max = st.real(5);
        r.mem_mean_mib = st.real(6);
        r.mem_max_mib = st.real(7);
        r.mem_total_mib = st.real(8);
        r.power_mean_w = opt(9);
        r.power_max_w = opt(10);
        r.temp_max_c = opt(11);
        out.push_back(r);
    }
}

std::vector<int> parse_gpu_ids(std::string_view text) {
    std::vector<int> out;
    while (!text.empty()) {
        auto comma = text.find(',');
        auto part = text.substr(0, comma);
        int v = 0;
        auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
        if (ec == std::errc() && end == part.data() + part.size() && v >= 0) {
            out.push_back(v);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        text.remove_prefix(comma + 1);
    }
    return out;
}

std::string format_gpu_ids(const std::vector<int>& ids) {
    return fmt::format("{}", fmt::join(ids, ","));
}

}  // namespace cosmos::store
