// The watcher thread behind /api/events (events.hpp).

#include "web/events.hpp"

#include <fstream>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/guard.hpp"
#include "core/log.hpp"
#include "services/app.hpp"
#include "services/queue.hpp"
#include "services/views.hpp"
#include "store/database.hpp"
#include "store/queue_store.hpp"
#include "store/run_store.hpp"
#include "web/http_util.hpp"

namespace cosmos::web {

namespace fs = std::filesystem;

namespace {

// Most bytes one `log` event carries (a burst is split into several events).
constexpr std::size_t k_max_log_chunk = 64 * 1024;
// Events a subscriber may have waiting before it is dropped (a stalled client).
constexpr std::size_t k_max_pending = 10000;

std::string run_signature(const store::RunRecord& r) {
    return fmt::format("{}|{}|{:.4f}|{}|{}",
                       store::to_string(r.status),
                       r.updated_at,
                       r.progress,
                       r.output_video.value_or(""),
                       r.host.value_or(""));
}

std::string job_signature(const store::JobRecord& j, std::optional<int> position) {
    return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}",
                       store::to_string(j.state),
                       j.updated_at,
                       j.priority,
                       j.position,
                       j.paused,
                       j.cancel_requested,
                       position.value_or(0),
                       j.host.value_or(""));
}

}  // namespace

std::string format_sse(std::string_view type, std::string_view json) {
    return fmt::format("event: {}\ndata: {}\n\n", type, json);
}

struct EventHub::State {
    std::optional<store::Database> db;
    std::int64_t data_version = -1;
    std::string since;    // newest updated_at seen
    std::string started;  // when the hub started (ISO 8601)
    std::map<std::string, Seen> runs;
    std::map<std::string, std::string> jobs;
    std::optional<bool> paused;
    std::map<std::string, Tail> tails;  // running runs
    std::chrono::steady_clock::time_point last_full_scan{};
};

EventHub::EventHub(config::Config config, std::chrono::milliseconds poll)
    : m_config(std::move(config)), m_poll(poll), m_state(std::make_unique<State>()) {}

EventHub::~EventHub() {
    stop();
}

core::Status EventHub::start() {
    COSMOS_TRY(auto db, store::Database::open(services::database_path(m_config)));
    m_state->db.emplace(std::move(db));
    scan_store(true);
    m_thread = std::thread(
        [this] { core::guarded("the event stream's store watcher", [this] { loop(); }); });
    return {};
}

void EventHub::stop() {
    m_stop.store(true);
    m_cv.notify_all();
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

std::shared_ptr<EventHub::Subscriber> EventHub::subscribe(std::optional<std::string> run_filter) {
    auto s = std::make_shared<Subscriber>();
    s->run_filter = std::move(run_filter);
    std::lock_guard lock(m_mutex);
    m_subscribers.push_back(s);
    return s;
}

void EventHub::unsubscribe(const std::shared_ptr<Subscriber>& s) {
    std::lock_guard lock(m_mutex);
    std::erase(m_subscribers, s);
}

bool EventHub::wait(Subscriber& s, std::string& out, std::chrono::milliseconds timeout) {
    std::unique_lock lock(m_mutex);
    m_cv.wait_for(lock, timeout, [&] { return m_stop.load() || s.dropped || !s.pending.empty(); });
    if (m_stop.load() || s.dropped) {
        return false;
    }
    while (!s.pending.empty()) {
        out += s.pending.front();
        s.pending.pop_front();
    }
    return true;
}

void EventHub::publish(std::string_view type, std::string_view json, const std::string& log_run) {
    std::string text = format_sse(type, json);
    {
        std::lock_guard lock(m_mutex);
        for (auto& s : m_subscribers) {
            if (!log_run.empty() && s->run_filter && *s->run_filter != log_run) {
                continue;
            }
            if (s->pending.size() >= k_max_pending) {
                s->dropped = true;
                continue;
            }
            s->pending.push_back(text);
        }
    }
    m_cv.notify_all();
}

void EventHub::loop() {
    while (!m_stop.load()) {
        auto st = m_state->db->prepare("PRAGMA data_version");
        std::int64_t version = -1;
        if (st) {
            auto row = st->step();
            if (row && *row) {
                version = st->int64(0);
            }
        }
        auto now = std::chrono::steady_clock::now();
        // data_version misses nothing committed by other connections; the periodic full look
        // also covers writes through this process's own connections.
        if (version != m_state->data_version ||
            now - m_state->last_full_scan > std::chrono::milliseconds(500)) {
            m_state->data_version = version;
            scan_store(false);
        }
        tail_logs();
        std::unique_lock lock(m_mutex);
        m_cv.wait_for(lock, m_poll, [&] { return m_stop.load(); });
    }
}

void EventHub::scan_store(bool initial) {
    State& st = *m_state;
    st.last_full_scan = std::chrono::steady_clock::now();
    const store::Database& db = *st.db;
    std::string now = core::now_iso();
    // A writer stamps updated_at before it commits, so a row may appear with a stamp older than
    // one already seen: look 5 s back (the signatures drop what did not change).
    std::string since =
        initial ? now
                : core::iso_from_ms(core::ms_from_iso(st.since.empty() ? now : st.since) - 5000);
    auto runs = store::runs_changed_since(db, since);
    if (initial) {
        st.since = now;
        st.started = now;
    }
    if (!runs) {
        core::log(core::LogLevel::warn, "ui events: {}", runs.error().message);
        return;
    }
    for (const auto& r : *runs) {
        if (r.updated_at > st.since) {
            st.since = r.updated_at;
        }
        std::string sig = run_signature(r);
        auto [it, inserted] = st.runs.try_emplace(r.id);
        if (inserted && !initial) {
            it->second.waiting = r.created_at >= st.started;
        }
        bool changed = it->second.signature != sig;
        it->second.signature = sig;
        bool running = r.status == store::RunStatus::running;
        if (running && !st.tails.count(r.id)) {
            Tail t;
            t.path = r.log_path && !r.log_path->empty()
                         ? fs::path(*r.log_path)
                         : fs::path(m_config.paths.data_dir) / "runs" / r.id / "run.log";
            if (initial) {
                std::error_code ec;
                auto size = fs::file_size(t.path, ec);
                t.offset = ec ? 0 : size;
            }
            st.tails.emplace(r.id, t);
        }
        if (!running) {
            if (auto t = st.tails.find(r.id); t != st.tails.end()) {
                read_tail(r.id, t->second);  // the last lines before it ended
                st.tails.erase(t);
            } else if (!initial && it->second.waiting && store::is_terminal(r.status)) {
                // It ran and ended between two looks: its whole log, once.
                Tail whole;
                whole.path = r.log_path && !r.log_path->empty()
                                 ? fs::path(*r.log_path)
                                 : fs::path(m_config.paths.data_dir) / "runs" / r.id / "run.log";
                read_tail(r.id, whole);
            }
        }
        it->second.waiting =
            r.status == store::RunStatus::pending || r.status == store::RunStatus::queued;
        if (initial) {
            it->second.had_output = r.output_video.has_value();
            continue;
        }
        if (changed) {
            publish("run", dump_json(services::run_json(r)));
        }
        if (r.output_video && !it->second.had_output) {
            it->second.had_output = true;
            std::string name = fs::path(*r.output_video).filename().string();
            publish("output",
                    dump_json({{"run_id", r.id},
                               {"name", name},
                               {"url", fmt::format("/api/runs/{}/output", r.id)}}));
        }
    }
    // The queue: jobs (running, queued, the newest finished) and its paused flag.
    auto jobs = store::list_jobs(db, 50);
    if (jobs) {
        int position = 0;
        for (const auto& j : *jobs) {
            std::optional<int> pos;
            if (j.state == store::JobState::queued) {
                pos = ++position;
            }
            std::string sig = job_signature(j, pos);
            auto [it, inserted] = st.jobs.try_emplace(j.id);
            if (it->second == sig) {
                continue;
            }
            it->second = sig;
            if (initial) {
                continue;
            }
            auto run = store::get_run(db, j.run_id);
            publish("job",
                    dump_json(services::job_json(
                        j, run ? *run : std::optional<store::RunRecord>(), pos)));
        }
    }
    auto paused = store::queue_paused(db);
    if (paused && st.paused != *paused) {
        bool first = !st.paused.has_value();
        st.paused = *paused;
        if (!first && !initial) {
            publish("queue", dump_json({{"paused", *paused}}));
        }
    }
}

void EventHub::tail_logs() {
    for (auto& [id, t] : m_state->tails) {
        read_tail(id, t);
    }
}

void EventHub::read_tail(const std::string& run_id, Tail& t) {
    std::error_code ec;
    auto size = fs::file_size(t.path, ec);
    if (ec) {
        return;
    }
    if (size < t.offset) {
        t.offset = 0;  // rewritten (a retry starts a new log)
    }
    if (size == t.offset) {
        return;
    }
    std::ifstream in(t.path, std::ios::binary);
    if (!in) {
        return;
    }
    in.seekg(static_cast<std::streamoff>(t.offset));
    while (t.offset < size) {
        std::size_t n = std::min<std::uint64_t>(size - t.offset, k_max_log_chunk);
        std::string text(n, '\0');
        in.read(text.data(), static_cast<std::streamsize>(n));
        text.resize(static_cast<std::size_t>(in.gcount()));
        if (text.empty()) {
            break;
        }
        // Keep a multi-byte UTF-8 character whole: stop before an incomplete one at the end.
        std::size_t keep = text.size();
        std::size_t back = 0;
        while (back < 4 && back < keep &&
               (static_cast<unsigned char>(text[keep - 1 - back]) & 0xC0) == 0x80) {
            ++back;
        }
        if (back < keep) {
            unsigned char lead = static_cast<unsigned char>(text[keep - 1 - back]);
            std::size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
            if (need > back + 1) {
                keep -= back + 1;  // incomplete: read it with the bytes that complete it
            }
        }
        if (keep == 0) {
            break;
        }
        text.resize(keep);
        publish(
            "log", dump_json({{"run_id", run_id}, {"offset", t.offset}, {"text", text}}), run_id);
        t.offset += keep;
        in.seekg(static_cast<std::streamoff>(t.offset));
    }
}

}  // namespace cosmos::web
