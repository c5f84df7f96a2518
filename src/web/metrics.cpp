#include "web/metrics.hpp"

#include <fmt/format.h>

namespace cosmos::web {

namespace {

// Appends one metric family: its HELP and TYPE lines, then its samples.
class Exposition {
public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        m_out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    }
    void sample(std::string_view name, const std::string& labels, double value) {
        m_out += name;
        if (!labels.empty()) {
            m_out += "{" + labels + "}";
        }
        m_out += " " + number(value) + "\n";
    }
    void histogram(std::string_view name,
                   const std::string& labels,
                   const store::DurationHistogram& h,
                   const std::vector<double>& bounds) {
        const std::string sep = labels.empty() ? "" : ",";
        const std::string bucket = std::string(name) + "_bucket";
        for (std::size_t i = 0; i < bounds.size(); ++i) {
            double n = i < h.counts.size() ? static_cast<double>(h.counts[i]) : 0;
            sample(bucket, labels + sep + fmt::format("le=\"{}\"", number(bounds[i])), n);
        }
        sample(bucket, labels + sep + "le=\"+Inf\"", static_cast<double>(h.count));
        sample(std::string(name) + "_sum", labels, h.sum);
        sample(std::string(name) + "_count", labels, static_cast<double>(h.count));
    }
    std::string take() { return std::move(m_out); }

private:
    static std::string number(double v) {
        if (v == static_cast<double>(static_cast<std::int64_t>(v)) && v < 1e15 && v > -1e15) {
            return std::to_string(static_cast<std::int64_t>(v));
        }
        return fmt::format("{}", v);
    }
    std::string m_out;
};

std::string label(std::string_view name, std::string_view value) {
    return fmt::format("{}=\"{}\"", name, escape_label(value));
}

void render_runs(Exposition& e, const store::MetricsSnapshot& m) {
    e.family("cosmos_runs", "gauge", "Runs in the database, by status and model.");
    for (const auto& [key, n] : m.runs) {
        e.sample("cosmos_runs",
                 label("status", key.first) + "," + label("model", key.second),
                 static_cast<double>(n));
    }
    e.family("cosmos_model_loads_total",
             "counter",
             "Model loads: runs that started on their own, plus batches (one load for all "
             "their runs).");
    for (const auto& [model, n] : m.model_loads) {
        e.sample("cosmos_model_loads_total", label("model", model), static_cast<double>(n));
    }
    e.family("cosmos_staged_bytes_total", "counter", "Bytes uploaded to hosts for runs.");
    e.sample("cosmos_staged_bytes_total", "", static_cast<double>(m.staged_bytes));
    e.family("cosmos_run_duration_seconds",
             "histogram",
             "Model time of finished runs (launch to end), by model.");
    for (const auto& [model, h] : m.run_seconds) {
        e.histogram(
            "cosmos_run_duration_seconds", label("model", model), h, store::run_duration_bounds());
    }
    e.family("cosmos_upload_duration_seconds", "histogram", "Time runs spent staging inputs.");
    e.histogram(
        "cosmos_upload_duration_seconds", "", m.upload_seconds, store::transfer_duration_bounds());
    e.family(
        "cosmos_download_duration_seconds", "histogram", "Time runs spent bringing outputs home.");
    e.histogram("cosmos_download_duration_seconds",
                "",
                m.download_seconds,
                store::transfer_duration_bounds());
}

void render_queue(Exposition& e, const store::MetricsSnapshot& m) {
    e.family("cosmos_queue_jobs", "gauge", "Queue jobs waiting or running, by state.");
    for (const auto& [state, n] : m.jobs) {
        e.sample("cosmos_queue_jobs", label("state", state), static_cast<double>(n));
    }
    e.family("cosmos_queue_paused_jobs", "gauge", "Queued jobs paused one by one.");
    e.sample("cosmos_queue_paused_jobs", "", static_cast<double>(m.paused_jobs));
    e.family("cosmos_queue_paused", "gauge", "1 while the whole queue is paused.");
    e.sample("cosmos_queue_paused", "", m.queue_paused ? 1 : 0);
    e.family("cosmos_queue_oldest_queued_age_seconds",
             "gauge",
             "Age of the oldest queued job (0 when none waits).");
    e.sample("cosmos_queue_oldest_queued_age_seconds", "", m.oldest_queued_age_seconds);
    e.family("cosmos_worker_leases", "gauge", "Running jobs held by a live worker lease.");
    e.sample("cosmos_worker_leases", "", static_cast<double>(m.live_leases));
}

void render_hosts(Exposition& e,
                  const store::MetricsSnapshot& m,
                  const nlohmann::ordered_json& hosts) {
    e.family("cosmos_host_up", "gauge", "1 when the host answered its last probe.");
    for (const auto& [name, h] : hosts.items()) {
        e.sample("cosmos_host_up", label("host", name), h.value("reachable", false) ? 1 : 0);
    }
    e.family("cosmos_host_unhealthy",
             "gauge",
             "1 while the queue routes around the host after failures.");
    for (const auto& [name, h] : hosts.items()) {
        bool bad = std::find(m.unhealthy_hosts.begin(), m.unhealthy_hosts.end(), name) !=
                   m.unhealthy_hosts.end();
        e.sample("cosmos_host_unhealthy", label("host", name), bad ? 1 : 0);
    }
    e.family("cosmos_host_free_bytes", "gauge", "Free bytes in the host's work_dir.");
    for (const auto& [name, h] : hosts.items()) {
        if (h.contains("free_bytes") && h["free_bytes"].is_number()) {
            e.sample("cosmos_host_free_bytes", label("host", name), h["free_bytes"].get<double>());
        }
    }
    struct Gpu {
        std::string host;
        std::string index;
        const nlohmann::ordered_json* g;
    };
    std::vector<Gpu> gpus;
    for (const auto& [name, h] : hosts.items()) {
        if (!h.value("reachable", false) || !h.contains("gpus") || !h["gpus"].is_array()) {
            continue;
        }
        for (const auto& g : h["gpus"]) {
            if (g.is_object() && g.contains("index") && g["index"].is_number_integer()) {
                gpus.push_back({name, std::to_string(g["index"].get<int>()), &g});
            }
        }
    }
    auto gpu_family =
        [&](std::string_view metric, std::string_view help, const char* field, double scale) {
            e.family(metric, "gauge", help);
            for (const auto& gpu : gpus) {
                const auto& g = *gpu.g;
                if (g.contains(field) && g[field].is_number()) {
                    e.sample(metric,
                             label("host", gpu.host) + "," + label("gpu", gpu.index),
                             g[field].get<double>() * scale);
                }
            }
        };
    gpu_family("cosmos_gpu_utilization_ratio",
               "GPU utilisation (0-1) from nvidia-smi at the last probe.",
               "utilization_percent",
               0.01);
    gpu_family("cosmos_gpu_memory_used_bytes",
               "GPU memory in use at the last probe.",
               "memory_used_mib",
               1024.0 * 1024.0);
    gpu_family("cosmos_gpu_memory_total_bytes",
               "GPU memory of the device.",
               "memory_total_mib",
               1024.0 * 1024.0);
}

}  // namespace

std::string escape_label(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string render_metrics(const store::MetricsSnapshot& snapshot,
                           const nlohmann::ordered_json& hosts,
                           const ServerGauges& server) {
    Exposition e;
    e.family("cosmos_info", "gauge", "The cosmos build serving these metrics.");
    e.sample("cosmos_info", label("version", COSMOS_VERSION), 1);
    render_runs(e, snapshot);
    render_queue(e, snapshot);
    render_hosts(e, snapshot, hosts.is_object() ? hosts : nlohmann::ordered_json::object());
    e.family("cosmos_ui_event_streams", "gauge", "Event streams open on this server.");
    e.sample("cosmos_ui_event_streams", "", server.open_event_streams);
    return e.take();
}

}  // namespace cosmos::web
