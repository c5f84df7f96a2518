// The background host prober behind GET /api/hosts (host_monitor.hpp).

#include "web/host_monitor.hpp"

#include "core/clock.hpp"
#include "core/guard.hpp"
#include "services/app.hpp"
#include "services/host_status.hpp"

namespace cosmos::web {

HostMonitor::HostMonitor(config::Config config, std::chrono::seconds every)
    : m_config(std::move(config)), m_every(every) {}

HostMonitor::~HostMonitor() {
    stop();
}

void HostMonitor::start() {
    m_thread = std::thread([this] { core::guarded("the host monitor", [this] { loop(); }); });
}

void HostMonitor::stop() {
    {
        std::lock_guard lock(m_mutex);
        m_stop.store(true);
    }
    m_cv.notify_all();
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

nlohmann::ordered_json HostMonitor::latest() {
    std::lock_guard lock(m_mutex);
    m_wanted_until = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    m_cv.notify_all();
    return m_latest;
}

void HostMonitor::loop() {
    auto db = store::Database::open(services::database_path(m_config));
    if (!db) {
        return;
    }
    services::App app{m_config, std::move(*db)};
    while (!m_stop.load()) {
        {
            std::unique_lock lock(m_mutex);
            m_cv.wait(lock, [&] {
                return m_stop.load() || std::chrono::steady_clock::now() < m_wanted_until;
            });
        }
        for (const auto& [name, host] : m_config.hosts) {
            if (m_stop.load()) {
                break;
            }
            auto j = services::host_status_json(app, host);
            j["probed_at"] = core::now_iso();
            std::lock_guard lock(m_mutex);
            m_latest[name] = std::move(j);
        }
        std::unique_lock lock(m_mutex);
        m_cv.wait_for(lock, m_every, [&] { return m_stop.load(); });
    }
}

}  // namespace cosmos::web
