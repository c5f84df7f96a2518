// One look at a host for `cosmos status` and the web UI (host_status.hpp).

#include "services/host_status.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "backends/model_server.hpp"
#include "backends/remote_job.hpp"
#include "backends/slurm_runtime.hpp"
#include "core/clock.hpp"
#include "scheduler/job.hpp"
#include "store/gpu_samples.hpp"
#include "store/host_power.hpp"
#include "store/run_store.hpp"
#include "transport/local_process.hpp"

namespace cosmos::services {

namespace {

using J = nlohmann::ordered_json;

J opt_text(const std::string& s) {
    return s.empty() ? J(nullptr) : J(s);
}

backends::HostStatus local_status(const config::HostConfig& h) {
    backends::HostStatus st;
    st.reachable = true;
    std::filesystem::path smi = "nvidia-smi";
    std::error_code ec;
    if (!h.cosmos_dir.empty() && std::filesystem::exists(h.cosmos_dir / "bin" / "nvidia-smi", ec)) {
        smi = h.cosmos_dir / "bin" / "nvidia-smi";
    }
    transport::ProcessSpec spec;
    spec.argv = {smi.string(),
                 "--query-gpu=index,name,utilization.gpu,memory.used,memory.total",
                 "--format=csv,noheader,nounits"};
    spec.env_add = h.env;  // as the host's runs get it (e.g. the emulator's GPU count and locks)
    std::string out;
    auto exit = transport::run_process(spec, [&](std::string_view line) {
        out += line;
        out += '\n';
    });
    if (!exit) {
        st.gpu_error = exit.error().message;
    } else if (exit->exit_code != 0) {
        st.gpu_error = fmt::format("nvidia-smi exited {}", exit->exit_code);
    } else {
        st.gpus = backends::parse_gpu_query(out);
    }
    auto space =
        std::filesystem::space(h.work_dir.empty() ? std::filesystem::path(".") : h.work_dir, ec);
    if (!ec) {
        st.free_bytes = space.available;
    }
    return st;
}

// The server cosmos runs on a host (--serve): running, or why not.
J server_json(const config::HostConfig& h) {
    auto server = backends::server_state(h);
    return server ? J{{"running", server->running},
                      {"model", h.server.model},
                      {"protocol", h.server.protocol},
                      {"detail", server->detail}}
                  : J{{"running", false}, {"detail", server.error().message}};
}

// A slurm host: its partition's nodes and GPUs and our jobs in it (backends::slurm_host_status),
// with the common keys ("reachable", "gpus" empty, "running") so the hosts page reads it too.
J slurm_status_json(const config::HostConfig& h, const std::vector<std::string>& running) {
    backends::SlurmHostStatus st;
    auto host = scheduler::open_host(h);
    if (!host) {
        st.error = host.error().message;
    } else {
        st = backends::slurm_host_status(*host);
    }
    J nodes = J::array();
    for (const auto& n : st.nodes) {
        nodes.push_back(
            {{"name", n.name}, {"state", n.state}, {"gpus", n.gpus}, {"gpus_used", n.gpus_used}});
    }
    J jobs = J::array();
    for (const auto& q : st.jobs) {
        jobs.push_back({{"slurm_job_id", q.job_id},
                        {"name", q.name},
                        {"state", q.state},
                        {"reason", q.reason}});
    }
    J out{{"host", h.name},
          {"kind", h.kind},
          {"address",
           h.ssh.address.empty() ? std::string("local")
                                 : fmt::format("{}@{}:{}", h.ssh.user, h.ssh.address, h.ssh.port)},
          {"reachable", st.reachable},
          {"error", opt_text(st.error)},
          {"latency_ms", st.latency_ms},
          {"gpus", J::array()},
          {"gpu_error", nullptr},
          {"free_bytes", nullptr},
          {"running", running},
          {"partition", h.slurm.partition},
          {"nodes", nodes},
          {"gpus_total", st.gpus_total},
          {"gpus_free", st.gpus_free},
          {"max_in_flight", h.slurm.max_in_flight},
          {"jobs", jobs}};
    if (h.server.enabled && st.reachable) {
        out["server"] = server_json(h);  // its job is among `jobs` (cosmos-server-...)
    }
    return out;
}

}  // namespace

namespace {

// An http host: whether its server answers, what it serves, the jobs it holds.
J http_status_json(const config::HostConfig& h, const std::vector<std::string>& ids) {
    auto start = std::chrono::steady_clock::now();
    J out{{"host", h.name},
          {"kind", h.kind},
          {"address", h.server.url},
          {"protocol", h.server.protocol},
          {"role", h.server.role},
          {"reachable", false},
          {"error", nullptr},
          {"latency_ms", 0},
          {"models", J::array()},
          {"jobs_in_flight", nullptr},
          {"max_concurrent", h.server.max_concurrent},
          {"gpus", J::array()},
          {"running", ids}};
    auto lease = backends::open_server(h);
    core::Status health =
        lease ? backends::check_health(lease->endpoint) : core::Status(core::fail(lease.error()));
    out["latency_ms"] =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!health) {
        out["error"] = health.error().message;
        return out;
    }
    out["reachable"] = true;
    if (auto models = backends::served_models(lease->endpoint)) {
        out["models"] = *models;
    } else {
        out["error"] = models.error().message;
    }
    if (h.server.role == "generator") {
        if (auto jobs = backends::list_videos(lease->endpoint)) {
            int in_flight = 0;
            for (const auto& j : *jobs) {
                in_flight += j.terminal() ? 0 : 1;
            }
            out["jobs_in_flight"] = in_flight;
        }
    }
    return out;
}

}  // namespace

nlohmann::ordered_json host_status_json(const App& app, const config::HostConfig& h) {
    store::RunQuery q;
    q.status = store::RunStatus::running;
    q.host = h.name;
    q.limit = 1000;
    std::vector<std::string> ids;
    if (auto running = store::list_runs(app.db, q)) {
        for (const auto& r : *running) {
            ids.push_back(r.id);
        }
    }
    // A machine a worker stopped as idle is not probed (a stopped cloud instance would only
    // time out): it is started again when runs wait for it (docs/cost.md "Idle hosts").
    if (auto stopped = store::stopped_hosts(app.db); stopped && stopped->contains(h.name)) {
        return J{{"host", h.name},
                 {"kind", h.kind},
                 {"address", h.ssh.address.empty() ? std::string("local") : h.ssh.address},
                 {"reachable", false},
                 {"stopped_at", stopped->at(h.name)},
                 {"error",
                  fmt::format("stopped by a worker at {} after {} s without work (its "
                              "stop_command ran); a worker starts it again when runs wait",
                              stopped->at(h.name),
                              h.idle_stop_after_s)},
                 {"latency_ms", 0},
                 {"gpus", J::array()},
                 {"gpu_error", nullptr},
                 {"free_bytes", nullptr},
                 {"running", ids}};
    }
    if (h.kind == core::HostKind::slurm) {
        return slurm_status_json(h, ids);
    }
    if (h.kind == core::HostKind::http) {
        return http_status_json(h, ids);
    }
    backends::HostStatus st;
    std::string address = "local";
    if (h.kind == core::HostKind::ssh) {
        address = fmt::format("{}@{}:{}", h.ssh.user, h.ssh.address, h.ssh.port);
        auto host = scheduler::open_host(h);
        if (!host) {
            st.error = host.error().message;
        } else {
            st = backends::host_status(*host, ids);
        }
    } else if (h.kind == core::HostKind::local) {
        auto start = std::chrono::steady_clock::now();
        st = local_status(h);
        st.jobs = ids;
        st.latency_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
    } else {
        st.error = fmt::format("{} hosts are not probed", h.kind);
    }
    J gpus = J::array();
    for (const auto& g : st.gpus) {
        gpus.push_back({{"index", g.index},
                        {"name", g.name},
                        {"utilization_percent", g.utilization_percent},
                        {"memory_used_mib", g.memory_used_mib},
                        {"memory_total_mib", g.memory_total_mib}});
    }
    J out{{"host", h.name},
          {"kind", h.kind},
          {"address", address},
          {"reachable", st.reachable},
          {"error", opt_text(st.error)},
          {"error_code",
           st.reachable ? J(nullptr) : J(std::string(core::error_code_name(st.error_code)))},
          {"latency_ms", st.latency_ms},
          {"gpus", gpus},
          {"gpu_error", opt_text(st.gpu_error)},
          {"free_bytes", st.free_bytes ? J(*st.free_bytes) : J(nullptr)},
          {"running", st.jobs}};
    if (h.server.enabled && st.reachable) {
        out["server"] = server_json(h);
    }
    return out;
}

store::RunRecord with_live_gpu_usage(const App& app, store::RunRecord run) {
    if (run.status != store::RunStatus::running || !run.host || !run.started_at ||
        run.gpu_util_mean) {
        return run;
    }
    std::int64_t from = core::ms_from_iso(*run.started_at);
    if (from < 0) {
        return run;
    }
    auto usage = store::gpu_usage(
        app.db, *run.host, store::parse_gpu_ids(run.gpu_ids.value_or("")), from, core::now_ms());
    if (usage && usage->samples > 0) {
        run.gpu_util_mean = usage->util_mean;
        run.gpu_util_peak = usage->util_peak;
        run.gpu_mem_peak_mib = usage->mem_peak_mib;
    }
    return run;
}

core::Result<nlohmann::ordered_json> gpu_history_json(const App& app,
                                                      const std::string& host,
                                                      std::int64_t from_ms,
                                                      std::int64_t to_ms,
                                                      int max_points) {
    COSMOS_TRY(auto rows, store::gpu_sample_rows(app.db, host, from_ms, to_ms));
    max_points = std::clamp(max_points, 1, 2000);
    // Equal steps of whole seconds, no finer than the coarsest row merged in them.
    std::int64_t step_ms = std::max<std::int64_t>(1000, (to_ms - from_ms) / max_points);
    step_ms = (step_ms + 999) / 1000 * 1000;
    struct Bin {
        std::int64_t n = 0;
        double util = 0, util_max = 0, mem = 0, mem_total = 0;
        double power = 0;
        std::int64_t power_n = 0;
        std::optional<double> temp;
    };
    std::map<int, std::map<std::int64_t, Bin>> bins;  // gpu -> bin start -> bin
    for (const auto& r : rows) {
        std::int64_t at = from_ms + std::max<std::int64_t>(0, r.t_ms - from_ms) / step_ms * step_ms;
        Bin& b = bins[r.gpu][at];
        b.n += r.n;
        b.util += r.util_mean * static_cast<double>(r.n);
        b.util_max = std::max(b.util_max, r.util_max);
        b.mem += r.mem_mean_mib * static_cast<double>(r.n);
        b.mem_total = std::max(b.mem_total, r.mem_total_mib);
        if (r.power_mean_w) {
            b.power += *r.power_mean_w * static_cast<double>(r.n);
            b.power_n += r.n;
        }
        if (r.temp_max_c) {
            b.temp = std::max(b.temp.value_or(*r.temp_max_c), *r.temp_max_c);
        }
    }
    J gpus = J::array();
    for (const auto& [gpu, series] : bins) {
        J points = J::array();
        for (const auto& [at, b] : series) {
            auto n = static_cast<double>(b.n);
            points.push_back(
                J::array({at,
                          b.util / n,
                          b.util_max,
                          b.mem / n,
                          b.mem_total,
                          b.power_n > 0 ? J(b.power / static_cast<double>(b.power_n)) : J(nullptr),
                          b.temp ? J(*b.temp) : J(nullptr)}));
        }
        gpus.push_back({{"gpu", gpu}, {"points", points}});
    }
    return J{{"host", host},
             {"from_ms", from_ms},
             {"to_ms", to_ms},
             {"step_s", step_ms / 1000},
             {"gpus", gpus}};
}

}  // namespace cosmos::services
