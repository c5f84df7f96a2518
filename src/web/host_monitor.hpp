#pragma once
// GET /api/hosts must never wait on SSH: a background thread probes every configured host
// (services::host_status_json: reachability, GPUs from nvidia-smi, running jobs) every few
// seconds and keeps the latest answer here. It probes only while someone looks: for a minute
// after each call of latest() (no SSH traffic from an idle server).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "config/config.hpp"

namespace cosmos::web {

class HostMonitor {
public:
    HostMonitor(config::Config config, std::chrono::seconds every);
    ~HostMonitor();
    HostMonitor(const HostMonitor&) = delete;
    HostMonitor& operator=(const HostMonitor&) = delete;

    void start();
    void stop();

    // The latest probe of each host (by name): host_status_json objects, with "probed_at";
    // empty until the first probe of a host ends. Keeps the probing going for a minute.
    nlohmann::ordered_json latest();

private:
    void loop();

    config::Config m_config;
    std::chrono::seconds m_every;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    nlohmann::ordered_json m_latest = nlohmann::ordered_json::object();
    std::chrono::steady_clock::time_point m_wanted_until{};
};

}  // namespace cosmos::web
