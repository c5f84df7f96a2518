#pragma once
// Hosts a worker stopped because they sat idle (their stop_command ran; docs/cost.md "Idle
// hosts"). A stopped host gets no work until it is started again and answers.

#include <map>
#include <string>

#include "core/result.hpp"
#include "store/database.hpp"

namespace cosmos::store {

core::Status mark_host_stopped(const Database& db,
                               const std::string& host,
                               const std::string& detail);
core::Status mark_host_started(const Database& db, const std::string& host);
// host -> when it was stopped (ISO)
core::Result<std::map<std::string, std::string>> stopped_hosts(const Database& db);
// Queued jobs a worker could claim (not paused, the queue not paused).
core::Result<std::int64_t> waiting_jobs(const Database& db);

}  // namespace cosmos::store
