#include "services/idle_hosts.hpp"

#include <fmt/format.h>

#include "scheduler/job.hpp"
#include "store/host_power.hpp"
#include "transport/local_shell.hpp"

namespace cosmos::services {

namespace {

constexpr std::int64_t k_retry_ms = 30'000;  // after a command failed, or a host did not answer

// Runs a user's stop/start argv on this machine (no shell: the argv is exec'd as given).
core::Result<std::string> run_local(const std::vector<std::string>& argv, std::string_view what) {
    transport::LocalShell shell;
    transport::CommandOptions options;
    options.timeout = std::chrono::minutes(10);
    COSMOS_TRY(auto r, shell.run(argv, options));
    if (r.exit_code != 0) {
        std::string err = r.err.substr(0, 500);
        while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) {
            err.pop_back();
        }
        return core::fail(
            core::ErrorCode::remote_failed,
            fmt::format("{} ({}) exited with {}: {}", what, argv.front(), r.exit_code, err));
    }
    return r.out;
}

// True when the host answers a command now.
bool answers(const config::HostConfig& h) {
    if (h.kind == core::HostKind::local) {
        return true;
    }
    auto host = scheduler::open_host(h);
    if (!host) {
        return false;
    }
    transport::CommandOptions options;
    options.timeout = std::chrono::seconds(20);
    auto r = host->shell->run({"true"}, options);
    return r && r->exit_code == 0;
}

}  // namespace

IdleHosts::IdleHosts(const App& app, std::vector<std::string> hosts, Note note)
    : m_app(app), m_note(std::move(note)) {
    for (auto& name : hosts) {
        auto h = config::find_host(app.config, name);
        if (h && h->idle_stop_after_s > 0 && !h->stop_command.empty()) {
            m_hosts.push_back(std::move(name));
        }
    }
}

core::Result<std::set<std::string>> IdleHosts::stopped() const {
    std::set<std::string> out;
    COSMOS_TRY(auto all, store::stopped_hosts(m_app.db));
    for (const auto& [name, at] : all) {
        out.insert(name);
    }
    return out;
}

core::Status IdleHosts::tick(std::int64_t now_ms, const std::set<std::string>& busy) {
    if (m_hosts.empty()) {
        return {};
    }
    COSMOS_TRY(auto waiting, store::waiting_jobs(m_app.db));
    COSMOS_TRY(auto down, stopped());
    for (const auto& name : m_hosts) {
        COSMOS_TRY(auto h, config::find_host(m_app.config, name));
        auto& last = m_last_work.try_emplace(name, now_ms).first->second;
        if (busy.count(name) > 0 || waiting > 0) {
            last = now_ms;
        }
        if (now_ms < m_retry_at[name]) {
            continue;
        }
        if (down.count(name) > 0) {
            if (waiting > 0) {
                COSMOS_CHECK(start(h, now_ms));
            }
            continue;
        }
        if (now_ms - last >= std::int64_t{h.idle_stop_after_s} * 1000) {
            COSMOS_CHECK(stop(h, now_ms));
        }
    }
    return {};
}

core::Status IdleHosts::stop(const config::HostConfig& h, std::int64_t now_ms) {
    const std::int64_t idle_s = (now_ms - m_last_work[h.name]) / 1000;
    auto ran = run_local(h.stop_command, "stop_command");
    if (!ran) {
        m_note(
            fmt::format("host {} idle for {} s, but stopping it failed: {}; trying again in "
                        "{} s",
                        h.name,
                        idle_s,
                        ran.error().message,
                        k_retry_ms / 1000));
        m_retry_at[h.name] = now_ms + k_retry_ms;
        return {};
    }
    COSMOS_CHECK(store::mark_host_stopped(
        m_app.db, h.name, fmt::format("idle for {} s; stop_command ran", idle_s)));
    m_started.erase(h.name);
    m_note(
        fmt::format("host {} idle for {} s: stopped (stop_command ran); it gets no work "
                    "until it is started again",
                    h.name,
                    idle_s));
    return {};
}

core::Status IdleHosts::start(const config::HostConfig& h, std::int64_t now_ms) {
    if (!h.start_command.empty() && m_started.count(h.name) == 0) {
        auto ran = run_local(h.start_command, "start_command");
        if (!ran) {
            m_note(fmt::format("host {}: starting it failed: {}; trying again in {} s",
                               h.name,
                               ran.error().message,
                               k_retry_ms / 1000));
            m_retry_at[h.name] = now_ms + k_retry_ms;
            return {};
        }
        m_started[h.name] = now_ms;
        m_note(
            fmt::format("host {}: jobs wait, start_command ran; waiting for it to answer", h.name));
    }
    if (!answers(h)) {
        // Booting after its start_command: look again soon; else (stopped, nothing to start it
        // with) now and then.
        m_retry_at[h.name] = now_ms + (m_started.count(h.name) > 0 ? 5'000 : k_retry_ms);
        return {};
    }
    COSMOS_CHECK(store::mark_host_started(m_app.db, h.name));
    m_started.erase(h.name);
    m_last_work[h.name] = now_ms;
    m_note(fmt::format("host {} answers again: it takes work", h.name));
    return {};
}

}  // namespace cosmos::services
