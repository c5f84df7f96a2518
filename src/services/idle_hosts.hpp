#pragma once
// Stopping idle GPU machines and starting them again (docs/cost.md "Idle hosts"). A worker calls
// tick() every cycle. A host with idle_stop_after and a stop_command that has had no job of this
// worker and nothing waiting in the queue for that long gets its stop_command run (an argv on
// this machine, e.g. the cloud provider's CLI) and is recorded as stopped: the worker places no
// work on it. When jobs wait again, its start_command (if any) runs, and once the host answers
// (an SSH round trip; the local host always does) it is usable again.

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "services/app.hpp"

namespace cosmos::services {

class IdleHosts {
public:
    using Note = std::function<void(const std::string&)>;
    IdleHosts(const App& app, std::vector<std::string> hosts, Note note);

    // `busy`: hosts with a job of this worker in flight.
    core::Status tick(std::int64_t now_ms, const std::set<std::string>& busy);

    // The hosts recorded as stopped (none of them may be given work).
    core::Result<std::set<std::string>> stopped() const;

private:
    core::Status stop(const config::HostConfig& h, std::int64_t now_ms);
    core::Status start(const config::HostConfig& h, std::int64_t now_ms);

    const App& m_app;
    std::vector<std::string> m_hosts;  // those with a stop_command, of this worker's hosts
    Note m_note;
    std::map<std::string, std::int64_t> m_last_work;  // host -> last time it had work (ms)
    std::map<std::string, std::int64_t> m_started;    // host -> when start_command ran (ms)
    std::map<std::string, std::int64_t> m_retry_at;   // host -> no command before this (ms)
};

}  // namespace cosmos::services
