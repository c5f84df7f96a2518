#pragma once
// The live feed behind GET /api/events (Server-Sent Events). One thread watches the store and
// the logs and fans events out to every subscriber (one per open stream):
//  - the SQLite file: PRAGMA data_version (cheap; changes when another connection or process
//    commits) polled every poll_ms; on a change, runs changed since the last look and the queue
//    are compared with what was seen: `run` (data: run_json), `job` (job_json), `queue`
//    ({"paused"}), `output` ({"run_id","name","url"}) when a run's output video appears;
//  - the run.log of every running run (<data_dir>/runs/<id>/run.log, or the log path recorded
//    at launch), stat-polled every poll_ms: `log` ({"run_id","offset","text"}) with the new bytes.
// It reads only files and the database, so it works when the worker is another process.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"

namespace cosmos::web {

// An event as sent on the stream: "event: TYPE\ndata: JSON\n\n".
std::string format_sse(std::string_view type, std::string_view json);

class EventHub {
public:
    struct Subscriber {
        std::optional<std::string> run_filter;  // only this run's log events
        std::deque<std::string> pending;        // formatted events
        bool dropped = false;                   // fell too far behind: its stream is closed
    };

    EventHub(config::Config config, std::chrono::milliseconds poll);
    ~EventHub();
    EventHub(const EventHub&) = delete;
    EventHub& operator=(const EventHub&) = delete;

    // Opens its own database connection and starts the watching thread.
    core::Status start();
    // Stops the thread and wakes every waiting subscriber (they end their streams).
    void stop();

    std::shared_ptr<Subscriber> subscribe(std::optional<std::string> run_filter);
    void unsubscribe(const std::shared_ptr<Subscriber>& s);

    // Waits up to `timeout` for events of `s` and moves them into `out` (concatenated). Returns
    // false when the hub stopped or `s` was dropped (the stream should end).
    bool wait(Subscriber& s, std::string& out, std::chrono::milliseconds timeout);

private:
    struct Tail {
        std::filesystem::path path;
        std::uint64_t offset = 0;
    };
    struct Seen {
        std::string signature;
        bool had_output = false;
        bool waiting = false;  // last seen pending or queued (or created since the hub started)
    };

    void loop();
    void scan_store(bool initial);
    void tail_logs();
    void read_tail(const std::string& run_id, Tail& t);
    void publish(std::string_view type, std::string_view json, const std::string& log_run = {});

    config::Config m_config;
    std::chrono::milliseconds m_poll;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;

    std::mutex m_mutex;  // guards m_subscribers and their queues
    std::condition_variable m_cv;
    std::vector<std::shared_ptr<Subscriber>> m_subscribers;

    // Watcher state (its thread only).
    struct State;
    std::unique_ptr<State> m_state;
};

}  // namespace cosmos::web
