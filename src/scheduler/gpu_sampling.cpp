// One nvidia-smi stream per host while it has work (gpu_sampling.hpp).

#include "scheduler/gpu_sampling.hpp"

#include <atomic>
#include <charconv>
#include <cmath>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "backends/remote_job.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "scheduler/job.hpp"
#include "store/run_store.hpp"
#include "transport/local_process.hpp"

namespace cosmos::scheduler {

namespace {

constexpr std::int64_t k_flush_every_ms = 10'000;  // at the latest (many GPUs, short -l)
constexpr std::int64_t k_min_flush_ms = 900;       // at most about once a second
constexpr std::int64_t k_compact_every_ms = 600'000;
constexpr int k_retry_after_s = 30;

std::optional<double> number(std::string_view s) {
    s = core::trim(s);
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v < 0) {
        return std::nullopt;
    }
    return v;
}

}  // namespace

const std::vector<std::string>& gpu_sample_fields() {
    static const std::vector<std::string> fields = {
        "index", "utilization.gpu", "memory.used", "memory.total", "power.draw", "temperature.gpu"};
    return fields;
}

std::optional<store::GpuSample> parse_gpu_sample(std::string_view line,
                                                 const std::string& host,
                                                 std::int64_t t_ms) {
    std::vector<std::string_view> parts;
    while (parts.size() < 7) {
        auto comma = line.find(',');
        parts.push_back(core::trim(line.substr(0, comma)));
        if (comma == std::string_view::npos) {
            break;
        }
        line.remove_prefix(comma + 1);
    }
    if (parts.size() != gpu_sample_fields().size()) {
        return std::nullopt;
    }
    auto index = number(parts[0]);
    auto util = number(parts[1]);
    auto used = number(parts[2]);
    auto total = number(parts[3]);
    if (!index || *index > 1024 || *index != static_cast<double>(static_cast<int>(*index)) ||
        !util || *util > 100 || !used || !total) {
        return std::nullopt;
    }
    store::GpuSample s;
    s.host = host;
    s.gpu = static_cast<int>(*index);
    s.t_ms = t_ms;
    s.util_percent = *util;
    s.mem_used_mib = *used;
    s.mem_total_mib = *total;
    s.power_w = number(parts[4]);
    s.temp_c = number(parts[5]);
    return s;
}

std::string held_gpus(const std::vector<int>& gpu_ids, int num_gpus) {
    if (!gpu_ids.empty()) {
        return store::format_gpu_ids(gpu_ids);
    }
    std::vector<int> all;
    for (int i = 0; i < std::max(num_gpus, 1); ++i) {
        all.push_back(i);
    }
    return store::format_gpu_ids(all);
}

class GpuSampler {
public:
    GpuSampler(std::filesystem::path db_path, config::HostConfig host)
        : m_db_path(std::move(db_path)), m_host(std::move(host)) {}
    GpuSampler(const GpuSampler&) = delete;
    GpuSampler& operator=(const GpuSampler&) = delete;
    ~GpuSampler() { stop(); }

    void start() {
        m_thread = std::thread([this] { run(); });
    }

    void stop() {
        m_stop = true;
        if (m_thread.joinable()) {
            m_thread.join();
        }
    }

    // Writes the buffered samples through `db`.
    void flush(const store::Database& db) {
        std::vector<store::GpuSample> batch;
        {
            std::lock_guard<std::mutex> lk(m_mu);
            batch.swap(m_buffer);
        }
        core::warn_on_error(store::insert_gpu_samples(db, batch), "store::insert_gpu_samples");
    }

    int leases = 0;  // guarded by the registry's mutex

private:
    void run() {
        auto db = store::Database::open(m_db_path);
        if (!db) {
            core::log(core::LogLevel::warn,
                      "GPU sampling of host {} is off: {}",
                      m_host.name,
                      db.error().message);
            return;
        }
        std::vector<std::string> args = {
            fmt::format("--query-gpu={}", fmt::join(gpu_sample_fields(), ",")),
            "--format=csv,noheader,nounits",
            "-l",
            std::to_string(m_host.gpu_sample_every_s)};
        std::int64_t last_flush = core::now_ms();
        std::int64_t last_compact = 0;
        auto write = [&](std::int64_t now) {
            flush(*db);
            last_flush = now;
            if (now - last_compact >= k_compact_every_ms) {
                core::warn_on_error(store::compact_gpu_samples(*db, now),
                                    "store::compact_gpu_samples");
                last_compact = now;
            }
        };
        auto on_line = [&](std::string_view line) {
            auto now = core::now_ms();
            auto s = parse_gpu_sample(line, m_host.name, now);
            if (!s) {
                return;
            }
            // GPU 0 starts a new round: the last one is complete. Rounds are written as they
            // end (at most about once a second), so `cosmos show` reads them while a run goes.
            if ((s->gpu == 0 && now - last_flush >= k_min_flush_ms) ||
                now - last_flush >= k_flush_every_ms) {
                write(now);
            }
            std::lock_guard<std::mutex> lk(m_mu);
            m_buffer.push_back(*s);
        };
        while (!m_stop) {
            std::optional<int> exit_code;
            std::string error;
            if (m_host.kind == core::HostKind::local) {
                transport::ProcessSpec spec;
                spec.argv = backends::nvidia_smi_argv(m_host.cosmos_dir.string(), args);
                spec.env_add = m_host.env;  // as its runs get it (the emulator's GPUs and locks)
                auto exit = transport::run_process(spec, on_line, &m_stop);
                if (exit) {
                    exit_code = exit->exit_code;
                } else {
                    error = exit.error().message;
                }
            } else if (auto host = open_host(m_host); !host) {
                error = host.error().message;
            } else {
                auto exit = host->shell->stream(
                    backends::nvidia_smi_argv(host->cosmos_dir, args), on_line, &m_stop);
                if (exit) {
                    exit_code = *exit;
                } else {
                    error = exit.error().message;
                }
            }
            flush(*db);
            if (m_stop) {
                return;
            }
            if (exit_code) {  // nvidia-smi ended by itself: it would again
                core::log(core::LogLevel::info,
                          "GPU sampling of host {} stopped: nvidia-smi exited {}",
                          m_host.name,
                          *exit_code);
                return;
            }
            core::log(core::LogLevel::info,
                      "GPU sampling of host {} paused for {} s: {}",
                      m_host.name,
                      k_retry_after_s,
                      error);
            for (int i = 0; i < k_retry_after_s * 10 && !m_stop; ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
        }
    }

    std::filesystem::path m_db_path;
    config::HostConfig m_host;
    std::atomic<bool> m_stop{false};
    std::mutex m_mu;
    std::vector<store::GpuSample> m_buffer;
    std::thread m_thread;
};

namespace {

std::mutex g_mu;
std::map<std::string, std::shared_ptr<GpuSampler>>& samplers() {
    static std::map<std::string, std::shared_ptr<GpuSampler>> all;
    return all;
}

std::string sampler_key(const store::Database& db, const std::string& host) {
    return db.path().string() + '\n' + host;
}

}  // namespace

GpuSamplingLease::GpuSamplingLease(std::shared_ptr<GpuSampler> sampler)
    : m_sampler(std::move(sampler)) {}

GpuSamplingLease::~GpuSamplingLease() {
    if (!m_sampler) {
        return;  // moved from
    }
    std::shared_ptr<GpuSampler> last;
    {
        std::lock_guard<std::mutex> lk(g_mu);
        if (--m_sampler->leases == 0) {
            for (auto it = samplers().begin(); it != samplers().end(); ++it) {
                if (it->second == m_sampler) {
                    samplers().erase(it);
                    break;
                }
            }
            last = m_sampler;
        }
    }
    // Joined here, outside the lock (a stream ends within a poll: ~0.1 s here, 20 ms over
    // SSH), so no sampler thread outlives the run that needed it or the process's statics.
    if (last) {
        last->stop();
    }
}

std::optional<GpuSamplingLease> sample_gpus(const App& app, const config::HostConfig& host) {
    if (host.gpu_sample_every_s <= 0 ||
        (host.kind != core::HostKind::local && host.kind != core::HostKind::ssh)) {
        return std::nullopt;
    }
    std::lock_guard<std::mutex> lk(g_mu);
    auto& slot = samplers()[sampler_key(app.db, host.name)];
    if (!slot) {
        slot = std::make_shared<GpuSampler>(app.db.path(), host);
        slot->start();
    }
    ++slot->leases;
    return GpuSamplingLease(slot);
}

void flush_gpu_samples(const store::Database& db, const std::string& host) {
    std::shared_ptr<GpuSampler> sampler;
    {
        std::lock_guard<std::mutex> lk(g_mu);
        auto it = samplers().find(sampler_key(db, host));
        if (it == samplers().end()) {
            return;
        }
        sampler = it->second;
    }
    sampler->flush(db);
}

core::Status record_run_gpu_usage(const store::Database& db, const store::RunRecord& run) {
    if (!run.host || !run.started_at) {
        return {};
    }
    std::int64_t from = core::ms_from_iso(*run.started_at);
    std::int64_t to = run.finished_at ? core::ms_from_iso(*run.finished_at) : core::now_ms();
    if (from < 0 || to < from) {
        return {};
    }
    flush_gpu_samples(db, *run.host);
    COSMOS_TRY(
        auto usage,
        store::gpu_usage(db, *run.host, store::parse_gpu_ids(run.gpu_ids.value_or("")), from, to));
    if (usage.samples == 0) {
        return {};
    }
    return store::record_gpu_usage(
        db, run.id, usage.util_mean, usage.util_peak, usage.mem_peak_mib);
}

}  // namespace cosmos::scheduler
