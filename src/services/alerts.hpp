#pragma once
// Alerts (docs/alerts.md): [[alerts]] rules evaluated against the store (runs and their
// progress, the queue, gpu_samples) and host probes, each (rule, subject) fired once and
// resolved when its condition clears (store/alert_store keeps it so across processes), and
// delivered to [alert_sinks.NAME] (a webhook's JSON, a Slack text, a command's stdin) with
// retries and exponential backoff. Nothing sent, logged or stored carries a secret: sink URLs
// from url_file are registered secrets and named only by their sink, text from elsewhere (a
// run's error) goes through core::redact.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "core/result.hpp"
#include "services/app.hpp"
#include "store/alert_store.hpp"

namespace cosmos::services {

// The webhook body: status, rule, condition, subject, summary, fired_at, resolved_at, host and
// run where the alert has them, and cosmos {version, instance}.
nlohmann::ordered_json alert_json(const store::AlertRecord& a, const std::string& status);
// The Slack incoming-webhook body: {"text": ...}.
nlohmann::ordered_json slack_json(const store::AlertRecord& a, const std::string& status);

// How long to wait after `failed` attempts (1, 2, ...) of a delivery to `sink`:
// retry_after, doubling each time, at most an hour.
std::int64_t retry_delay_ms(const config::AlertSink& sink, int failed);

// The URL a webhook or slack sink posts to: `url`, or the contents of `url_file` (mode 0600,
// core::read_secret_file's rules; registered as a secret).
core::Result<std::string> sink_url(const config::AlertSink& sink);

// Sends one alert through one sink, one attempt. Errors name the sink, never its URL.
core::Status send_alert(const config::AlertSink& sink,
                        const store::AlertRecord& a,
                        const std::string& status);

// `cosmos config check`: every url_file readable under the secret-file rules. Fails with
// config naming the sink and the key.
core::Status check_alert_sinks(const config::Config& config);

struct SinkTest {
    std::string sink;
    std::string kind;
    bool delivered = false;
    std::string error;  // why not (no secret)
};

// Sends a sample alert through every sink (or only `only`; not_found when no such sink).
core::Result<std::vector<SinkTest>> test_alert_sinks(const config::Config& config,
                                                     const std::string& only);

// What one pass did.
struct AlertPass {
    std::vector<store::AlertRecord> fired;
    std::vector<store::AlertRecord> resolved;
    int delivered = 0;
    int failed_attempts = 0;  // to be retried
    int given_up = 0;
    int probes = 0;
};

class AlertEngine {
public:
    using Note = std::function<void(const std::string&)>;
    AlertEngine(config::Config config, Note note);

    // False when no [[alerts]] are configured: nothing to do.
    bool enabled() const { return !m_config.alerts.empty(); }

    // Probes the hosts that host_unreachable and disk_low rules watch when their probe is due
    // (may take seconds), then fires and resolves alerts.
    core::Result<AlertPass> evaluate(const App& app, std::int64_t now_ms);
    // Sends the deliveries due now, each sink on its own thread; records outcomes and backoff.
    core::Status deliver(const App& app, std::int64_t now_ms, AlertPass& pass);
    // Both.
    core::Result<AlertPass> check(const App& app, std::int64_t now_ms);

private:
    core::Status probe_hosts(const App& app, std::int64_t now_ms, AlertPass& pass);

    config::Config m_config;
    Note m_note;
};

// Runs AlertEngine::check on a thread of its own (with its own database connection), so a
// slow probe or a sink that does not answer never holds up the caller. A worker calls tick()
// each cycle; `cosmos serve` start()s its loop.
class AlertTicker {
public:
    AlertTicker(config::Config config,
                AlertEngine::Note note,
                std::chrono::milliseconds every = std::chrono::seconds(2));
    ~AlertTicker();
    AlertTicker(const AlertTicker&) = delete;
    AlertTicker& operator=(const AlertTicker&) = delete;

    // Starts a pass when one is due and none is running; returns at once. Cheap when no
    // [[alerts]] are configured.
    void tick();
    // A thread that tick()s until stop().
    void start();
    // Ends the loop and waits for a pass in flight.
    void stop();

private:
    void pass();

    config::Config m_config;
    AlertEngine m_engine;
    std::chrono::milliseconds m_every;
    std::optional<App> m_app;  // opened by the first pass, used by one pass at a time
    std::atomic<bool> m_busy{false};
    std::int64_t m_next_ms = 0;
    std::thread m_pass;
    std::thread m_loop;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stop = false;
};

}  // namespace cosmos::services
