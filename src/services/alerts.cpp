// Alert rules, their evaluation and delivery (alerts.hpp; docs/alerts.md).

#include "services/alerts.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <unistd.h>

#include <fmt/format.h>

#include "backends/served_api.hpp"
#include "core/clock.hpp"
#include "core/guard.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/secret_file.hpp"
#include "services/host_status.hpp"
#include "transport/local_shell.hpp"

#ifndef COSMOS_VERSION
#define COSMOS_VERSION "unknown"
#endif

namespace cosmos::services {

using config::AlertCondition;
using config::AlertSinkKind;
using core::ErrorCode;
using core::fail;

namespace {

constexpr std::int64_t k_claim_ms = 5 * 60 * 1000;  // a delivery pass holds its rows this long
constexpr double k_gib = 1024.0 * 1024.0 * 1024.0;

std::string instance_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof(buf) - 1) != 0) {
        return "unknown";
    }
    return buf;
}

// One line of someone else's text (a run's error, a probe's message), secrets removed.
std::string clean(std::string_view text, std::size_t max = 300) {
    std::string s = core::redact(text);
    for (char& c : s) {
        if (c == '\n' || c == '\r' || c == '\t') {
            c = ' ';
        }
    }
    if (s.size() > max) {
        s = s.substr(0, max) + "...";
    }
    return s;
}

std::string minutes(double m) {
    if (m >= 1 && std::floor(m) == m) {
        return fmt::format("{} min", static_cast<std::int64_t>(m));
    }
    return fmt::format("{:.1f} min", m);
}

bool watches(const config::AlertRule& rule, const std::optional<std::string>& host) {
    if (rule.hosts.empty()) {
        return true;
    }
    return host && std::find(rule.hosts.begin(), rule.hosts.end(), *host) != rule.hosts.end();
}

std::vector<std::string> rule_hosts(const config::Config& config, const config::AlertRule& rule) {
    if (!rule.hosts.empty()) {
        return rule.hosts;
    }
    std::vector<std::string> all;
    for (const auto& [name, h] : config.hosts) {
        all.push_back(name);
    }
    return all;
}

bool probes(const config::AlertRule& rule) {
    return rule.when == AlertCondition::host_unreachable || rule.when == AlertCondition::disk_low;
}

// (scheme://host[:port], /path) of a sink URL.
std::pair<std::string, std::string> split_url(const std::string& url) {
    auto scheme = url.find("://");
    auto slash = scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
    if (slash == std::string::npos) {
        return {url, "/"};
    }
    return {url.substr(0, slash), url.substr(slash)};
}

std::string where(const config::AlertSink& sink) {
    return fmt::format("alert sink '{}'", sink.name);
}

}  // namespace

nlohmann::ordered_json alert_json(const store::AlertRecord& a, const std::string& status) {
    using J = nlohmann::ordered_json;
    J j = {{"status", status},
           {"rule", a.rule},
           {"condition", a.condition},
           {"subject", a.subject},
           {"summary", a.summary},
           {"fired_at", a.fired_at},
           {"resolved_at", a.resolved_at ? J(*a.resolved_at) : J(nullptr)}};
    if (a.host) {
        j["host"] = *a.host;
    }
    if (a.run_id) {
        j["run"] = *a.run_id;
    }
    j["cosmos"] = {{"version", COSMOS_VERSION}, {"instance", instance_name()}};
    return j;
}

nlohmann::ordered_json slack_json(const store::AlertRecord& a, const std::string& status) {
    std::string head = status == "resolved" ? "RESOLVED" : "FIRING";
    std::string text = fmt::format("[{}] {} ({}): {}", head, a.rule, a.condition, a.summary);
    if (status == "resolved" && a.resolved_at) {
        text += fmt::format(" (fired {}, resolved {})", a.fired_at, *a.resolved_at);
    }
    text += fmt::format(" [cosmos on {}]", instance_name());
    return {{"text", text}};
}

std::int64_t retry_delay_ms(const config::AlertSink& sink, int failed) {
    std::int64_t s = std::max(1, sink.retry_after_s);
    for (int i = 1; i < failed && s < 3600; ++i) {
        s *= 2;
    }
    return std::min<std::int64_t>(s, 3600) * 1000;
}

core::Result<std::string> sink_url(const config::AlertSink& sink) {
    if (!sink.url_file.empty()) {
        auto url = core::read_secret_file(sink.url_file, "url_file");
        if (!url) {
            core::Error e = url.error();
            e.message = fmt::format("[alert_sinks.{}] url_file: {}", sink.name, e.message);
            return fail(std::move(e));
        }
        // A URL the config check would refuse as `url` is refused here too (no scheme, spaces).
        const std::string& u = *url;
        bool ok = (u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0) &&
                  u.find_first_of(" \t\r\n") == std::string::npos && u.size() > 8;
        if (!ok) {
            return fail(ErrorCode::config,
                        fmt::format("[alert_sinks.{}] url_file {} does not hold an http(s):// URL",
                                    sink.name,
                                    sink.url_file.string()),
                        "the file holds one line: the webhook's URL");
        }
        return u;
    }
    return sink.url;
}

core::Status send_alert(const config::AlertSink& sink,
                        const store::AlertRecord& a,
                        const std::string& status) {
    if (sink.kind == AlertSinkKind::command) {
        transport::LocalShell shell;
        transport::CommandOptions options;
        options.stdin_data = alert_json(a, status).dump() + "\n";
        options.timeout = std::chrono::seconds(sink.timeout_s);
        auto r = shell.run(sink.argv, options);
        if (!r) {
            return fail(
                r.error().code,
                fmt::format(
                    "{} ({}): {}", where(sink), sink.argv.front(), clean(r.error().message)));
        }
        if (r->exit_code != 0) {
            return fail(ErrorCode::remote_failed,
                        fmt::format("{} ({}) exited with {}: {}",
                                    where(sink),
                                    sink.argv.front(),
                                    r->exit_code,
                                    clean(r->err)));
        }
        return {};
    }
    COSMOS_TRY(std::string url, sink_url(sink));
    auto [base, path] = split_url(url);
    backends::Endpoint e;
    e.url = base;
    e.ca_file = sink.ca_file.string();
    e.where = where(sink);
    auto body = sink.kind == AlertSinkKind::slack ? slack_json(a, status) : alert_json(a, status);
    return backends::post_body(e, path, body.dump(), "application/json", sink.timeout_s);
}

core::Status check_alert_sinks(const config::Config& config) {
    for (const auto& [name, sink] : config.alert_sinks) {
        if (sink.url_file.empty()) {
            continue;
        }
        if (auto url = sink_url(sink); !url) {
            core::Error e = url.error();
            e.code = ErrorCode::config;
            return fail(std::move(e));
        }
    }
    return {};
}

core::Result<std::vector<SinkTest>> test_alert_sinks(const config::Config& config,
                                                     const std::string& only) {
    if (!only.empty() && config.alert_sinks.count(only) == 0) {
        std::vector<std::string> names;
        for (const auto& [n, s] : config.alert_sinks) {
            names.push_back(n);
        }
        return fail(ErrorCode::not_found,
                    fmt::format("no alert sink '{}'", only),
                    names.empty() ? std::string("add [alert_sinks.NAME] tables to the config "
                                                "(docs/alerts.md)")
                                  : fmt::format("sinks: {}", fmt::join(names, ", ")));
    }
    store::AlertRecord a;
    a.rule = "test";
    a.condition = "test";
    a.subject = "test";
    a.state = "firing";
    a.summary = fmt::format("a test alert from `cosmos alerts test` on {}: this sink works",
                            instance_name());
    a.fired_at = core::now_iso();
    std::vector<SinkTest> out;
    for (const auto& [name, sink] : config.alert_sinks) {
        if (!only.empty() && name != only) {
            continue;
        }
        SinkTest t{name, std::string(config::alert_sink_kind_name(sink.kind)), true, {}};
        if (auto s = send_alert(sink, a, "firing"); !s) {
            t.delivered = false;
            t.error = clean(s.error().message, 500);
        }
        out.push_back(std::move(t));
    }
    return out;
}

AlertEngine::AlertEngine(config::Config config, Note note)
    : m_config(std::move(config)), m_note(std::move(note)) {}

core::Status AlertEngine::probe_hosts(const App& app, std::int64_t now_ms, AlertPass& pass) {
    std::map<std::string, int> every;  // host -> the shortest probe_every of its rules
    for (const auto& rule : m_config.alerts) {
        if (!probes(rule)) {
            continue;
        }
        for (const auto& host : rule_hosts(m_config, rule)) {
            auto it = every.find(host);
            every[host] =
                it == every.end() ? rule.probe_every_s : std::min(it->second, rule.probe_every_s);
        }
    }
    for (const auto& [name, seconds] : every) {
        auto h = m_config.hosts.find(name);
        if (h == m_config.hosts.end()) {
            continue;
        }
        COSMOS_TRY(bool mine, store::claim_probe(app.db, name, seconds * 1000LL, now_ms));
        if (!mine) {
            continue;
        }
        auto j = host_status_json(app, h->second);
        bool reachable = j.value("reachable", false);
        std::optional<std::int64_t> free;
        if (j.contains("free_bytes") && j["free_bytes"].is_number()) {
            free = j["free_bytes"].get<std::int64_t>();
        }
        std::optional<std::string> error;
        if (j.contains("error") && j["error"].is_string() &&
            !j["error"].get<std::string>().empty()) {
            error = clean(j["error"].get<std::string>());
        }
        COSMOS_CHECK(store::record_probe(app.db, name, reachable, free, error, core::now_ms()));
        ++pass.probes;
    }
    return {};
}

core::Result<AlertPass> AlertEngine::evaluate(const App& app, std::int64_t now_ms) {
    AlertPass pass;
    std::set<std::string> names;
    bool any_probe = false, any_stuck = false;
    for (const auto& rule : m_config.alerts) {
        names.insert(rule.name);
        any_probe = any_probe || probes(rule);
        any_stuck = any_stuck || rule.when == AlertCondition::run_stuck;
    }
    COSMOS_TRY(auto orphans, store::resolve_orphans(app.db, names, now_ms));
    (void)orphans;
    COSMOS_TRY(auto pruned,
               store::prune_resolved_alerts(app.db, now_ms - store::k_resolved_alert_keep_ms));
    (void)pruned;
    if (any_probe) {
        COSMOS_CHECK(probe_hosts(app, now_ms, pass));
        now_ms = std::max(now_ms, core::now_ms());  // probes take time
    }
    std::vector<store::RunningRun> running;
    if (any_stuck) {
        COSMOS_TRY(running, store::observe_running_runs(app.db, now_ms));
    }
    std::map<std::string, store::HostProbe> probed;
    if (any_probe) {
        COSMOS_TRY(probed, store::host_probes(app.db));
    }
    std::optional<store::QueueFacts> queue;
    auto queue_now = [&]() -> core::Result<store::QueueFacts> {
        if (!queue) {
            COSMOS_TRY(queue, store::queue_facts(app.db, now_ms));
        }
        return *queue;
    };
    for (const auto& rule : m_config.alerts) {
        const auto for_ms = static_cast<std::int64_t>(rule.for_minutes * 60'000);
        std::vector<store::AlertFinding> found;
        bool event = false;
        switch (rule.when) {
            case AlertCondition::run_failed: {
                event = true;
                COSMOS_TRY(auto since, store::rule_since(app.db, rule.name, now_ms));
                COSMOS_TRY(auto failed, store::failed_runs_to_alert(app.db, rule.name, since));
                for (const auto& r : failed) {
                    if (!watches(rule, r.host)) {
                        continue;
                    }
                    found.push_back({r.id,
                                     r.host,
                                     r.id,
                                     fmt::format("run {} failed{}: {}",
                                                 r.id,
                                                 r.host ? " on host " + *r.host : "",
                                                 clean(r.error.value_or("no error recorded")))});
                }
                break;
            }
            case AlertCondition::run_stuck:
                for (const auto& r : running) {
                    if (!watches(rule, r.host) || now_ms - r.changed_ms < for_ms) {
                        continue;
                    }
                    found.push_back(
                        {r.id,
                         r.host,
                         r.id,
                         fmt::format("run {}{} has made no progress for {} (at {:.0f}%)",
                                     r.id,
                                     r.host ? " on host " + *r.host : "",
                                     minutes(static_cast<double>(now_ms - r.changed_ms) / 60000.0),
                                     r.progress * 100)});
                }
                break;
            case AlertCondition::host_unreachable:
                for (const auto& host : rule_hosts(m_config, rule)) {
                    auto p = probed.find(host);
                    if (p == probed.end() || !p->second.reachable || *p->second.reachable ||
                        now_ms - p->second.unreachable_since_ms.value_or(now_ms) < for_ms) {
                        continue;
                    }
                    found.push_back(
                        {host,
                         host,
                         std::nullopt,
                         fmt::format(
                             "host {} does not answer (since {}): {}",
                             host,
                             core::iso_from_ms(p->second.unreachable_since_ms.value_or(now_ms)),
                             p->second.error.value_or("no answer"))});
                }
                break;
            case AlertCondition::disk_low:
                for (const auto& host : rule_hosts(m_config, rule)) {
                    auto p = probed.find(host);
                    if (p == probed.end() || !p->second.free_bytes ||
                        static_cast<double>(*p->second.free_bytes) >= rule.min_free_gb * k_gib) {
                        continue;
                    }
                    found.push_back(
                        {host,
                         host,
                         std::nullopt,
                         fmt::format("host {} has {:.1f} GiB free in its work dir (below {} GiB)",
                                     host,
                                     static_cast<double>(*p->second.free_bytes) / k_gib,
                                     rule.min_free_gb)});
                }
                break;
            case AlertCondition::queue_stalled: {
                COSMOS_TRY(auto q, queue_now());
                std::int64_t still = now_ms - std::max(q.oldest_waiting_ms, q.last_movement_ms);
                if (q.waiting > 0 && q.oldest_waiting_ms > 0 && still >= for_ms) {
                    found.push_back(
                        {"queue",
                         std::nullopt,
                         std::nullopt,
                         fmt::format("{} job(s) queued and no run started or ended for {}",
                                     q.waiting,
                                     minutes(static_cast<double>(still) / 60000.0))});
                }
                break;
            }
            case AlertCondition::gpu_idle: {
                COSMOS_TRY(auto q, queue_now());
                if (q.waiting == 0) {
                    break;
                }
                COSMOS_TRY(auto windows, store::gpu_windows(app.db, now_ms - for_ms));
                std::map<std::string, std::vector<int>> idle;
                for (const auto& w : windows) {
                    // Samples over (nearly) the whole window, the last one recent, all low.
                    bool covers = w.last_ms - w.first_ms >= for_ms * 8 / 10 &&
                                  now_ms - w.last_ms <= std::max<std::int64_t>(120'000, for_ms / 5);
                    if (covers && w.util_max < rule.below_percent && watches(rule, w.host)) {
                        idle[w.host].push_back(w.gpu);
                    }
                }
                for (const auto& [host, gpus] : idle) {
                    found.push_back(
                        {host,
                         host,
                         std::nullopt,
                         fmt::format("host {}: GPU {} below {}% utilisation for {} while {} "
                                     "job(s) wait",
                                     host,
                                     fmt::join(gpus, ", "),
                                     rule.below_percent,
                                     minutes(rule.for_minutes),
                                     q.waiting)});
                }
                break;
            }
        }
        std::set<std::string> subjects;
        const std::string condition(config::alert_condition_name(rule.when));
        for (const auto& f : found) {
            subjects.insert(f.subject);
            COSMOS_TRY(
                auto fired,
                store::fire_alert(app.db, rule.name, condition, event, f, rule.sinks, now_ms));
            if (fired) {
                m_note(fmt::format("alert {} firing: {}", rule.name, fired->summary));
                pass.fired.push_back(std::move(*fired));
            }
        }
        if (!event) {
            COSMOS_TRY(auto resolved,
                       store::resolve_alerts(app.db, rule.name, subjects, rule.sinks, now_ms));
            for (auto& a : resolved) {
                m_note(fmt::format("alert {} resolved: {}", rule.name, a.summary));
                pass.resolved.push_back(std::move(a));
            }
        }
    }
    return pass;
}

core::Status AlertEngine::deliver(const App& app, std::int64_t now_ms, AlertPass& pass) {
    COSMOS_TRY(auto due, store::claim_deliveries(app.db, now_ms, k_claim_ms, 200));
    if (due.empty()) {
        return {};
    }
    struct Outcome {
        std::optional<core::Error> error;  // nullopt: delivered
        bool tried = true;
    };
    std::map<std::string, std::vector<std::size_t>> by_sink;
    for (std::size_t i = 0; i < due.size(); ++i) {
        by_sink[due[i].sink].push_back(i);
    }
    std::vector<Outcome> outcomes(due.size());
    std::vector<std::thread> threads;
    for (const auto& [name, indices] : by_sink) {
        auto sink = m_config.alert_sinks.find(name);
        if (sink == m_config.alert_sinks.end()) {
            for (auto i : indices) {
                outcomes[i].error = core::make_error(
                    ErrorCode::config, fmt::format("alert sink '{}' is not configured", name));
            }
            continue;
        }
        // A pointer, not the structured binding itself: clang refuses to capture bindings.
        threads.emplace_back([&due, &outcomes, indices = &indices, s = &sink->second] {
            core::guarded("an alert delivery", [&] {
                bool down = false;
                for (auto i : *indices) {
                    if (down) {
                        outcomes[i].tried = false;  // after a sink did not answer: next pass
                        continue;
                    }
                    auto st = send_alert(*s, due[i].alert, due[i].status);
                    if (!st) {
                        outcomes[i].error = st.error();
                        down = st.error().code == ErrorCode::host_unreachable ||
                               st.error().code == ErrorCode::timeout;
                    }
                }
            });
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    std::int64_t done_ms = core::now_ms();
    for (std::size_t i = 0; i < due.size(); ++i) {
        const auto& d = due[i];
        const auto& o = outcomes[i];
        if (!o.tried) {
            COSMOS_CHECK(store::delivery_release(app.db, d.id));
            continue;
        }
        if (!o.error) {
            COSMOS_CHECK(store::delivery_done(app.db, d.id, done_ms));
            ++pass.delivered;
            continue;
        }
        auto sink = m_config.alert_sinks.find(d.sink);
        int failed = d.attempts + 1;
        bool give_up = sink == m_config.alert_sinks.end() || failed >= sink->second.max_attempts;
        std::string error = clean(o.error->message, 500);
        std::int64_t next = give_up ? done_ms : done_ms + retry_delay_ms(sink->second, failed);
        COSMOS_CHECK(store::delivery_failed(app.db, d.id, error, give_up, next));
        if (give_up) {
            ++pass.given_up;
            m_note(fmt::format("alert {} ({}) to sink {}: gave up after {} attempt(s): {}",
                               d.alert.rule,
                               d.status,
                               d.sink,
                               failed,
                               error));
        } else {
            ++pass.failed_attempts;
            m_note(fmt::format("alert {} ({}) to sink {}: attempt {} failed, next in {} s: {}",
                               d.alert.rule,
                               d.status,
                               d.sink,
                               failed,
                               (next - done_ms) / 1000,
                               error));
        }
    }
    return {};
}

core::Result<AlertPass> AlertEngine::check(const App& app, std::int64_t now_ms) {
    COSMOS_TRY(auto pass, evaluate(app, now_ms));
    COSMOS_CHECK(deliver(app, std::max(now_ms, core::now_ms()), pass));
    return pass;
}

AlertTicker::AlertTicker(config::Config config,
                         AlertEngine::Note note,
                         std::chrono::milliseconds every)
    : m_config(config), m_engine(std::move(config), std::move(note)), m_every(every) {}

AlertTicker::~AlertTicker() {
    stop();
}

void AlertTicker::tick() {
    if (!m_engine.enabled() || m_busy.load()) {
        return;
    }
    std::int64_t now = core::now_ms();
    if (now < m_next_ms) {
        return;
    }
    if (m_pass.joinable()) {
        m_pass.join();  // the previous pass has ended (not busy)
    }
    m_next_ms = now + m_every.count();
    m_busy.store(true);
    m_pass = std::thread([this] {
        core::guarded("the alert pass", [this] { pass(); });
        m_busy.store(false);
    });
}

void AlertTicker::pass() {
    if (!m_app) {
        auto db = store::Database::open(database_path(m_config));
        if (!db) {
            core::log(core::LogLevel::warn, "alerts: {}", db.error().message);
            return;
        }
        m_app.emplace(App{m_config, std::move(*db)});
    }
    core::warn_on_error(m_engine.check(*m_app, core::now_ms()), "alerts");
}

void AlertTicker::start() {
    if (!m_engine.enabled()) {
        return;
    }
    m_loop = std::thread([this] {
        core::guarded("the alert loop", [this] {
            std::unique_lock lock(m_mutex);
            while (!m_stop) {
                tick();
                m_cv.wait_for(lock, std::chrono::milliseconds(500), [this] { return m_stop; });
            }
        });
    });
}

void AlertTicker::stop() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    if (m_loop.joinable()) {
        m_loop.join();
    }
    if (m_pass.joinable()) {
        m_pass.join();
    }
}

}  // namespace cosmos::services
