// Alerts (docs/alerts.md): the [[alerts]] / [alert_sinks] config and its errors, the evaluator
// against a real SQLite file (fire once, resolve, events, dedup across connections), the
// backoff schedule and delivery through a real command sink.

#include "services/alerts.hpp"

#include <fstream>
#include <thread>

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "store/alert_store.hpp"
#include "store/prompt_store.hpp"
#include "store/queue_store.hpp"
#include "store/run_store.hpp"
#include "support/temp_dir.hpp"

using namespace cosmos;

namespace {

std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

core::Result<config::Config> parse(const test::TempDir& dir, const std::string& text) {
    return config::parse_config(text, dir / "cosmos.toml");
}

const char* k_sinks = R"(
[alert_sinks.hook]
kind = "webhook"
url = "http://127.0.0.1:9/alerts"

[alert_sinks.cmd]
kind = "command"
argv = ["true"]
)";

TEST(AlertConfig, ReadsRulesAndSinks) {
    test::TempDir dir;
    auto c = parse(dir, std::string(k_sinks) + R"(
[[alerts]]
name = "failed"
when = "run_failed"
sinks = ["hook", "cmd"]

[[alerts]]
name = "stuck"
when = "run_stuck"
for_minutes = 0.5
hosts = ["local"]
sinks = ["cmd"]

[[alerts]]
name = "disk"
when = "disk_low"
min_free_gb = 20
probe_every = 60
sinks = ["hook"]
)");
    ASSERT_TRUE(c.has_value()) << c.error().message;
    ASSERT_EQ(c->alerts.size(), 3u);
    EXPECT_EQ(c->alerts[0].when, config::AlertCondition::run_failed);
    EXPECT_EQ(c->alerts[0].sinks, (std::vector<std::string>{"hook", "cmd"}));
    EXPECT_DOUBLE_EQ(c->alerts[1].for_minutes, 0.5);
    EXPECT_EQ(c->alerts[1].hosts, std::vector<std::string>{"local"});
    EXPECT_DOUBLE_EQ(c->alerts[2].min_free_gb, 20);
    EXPECT_EQ(c->alerts[2].probe_every_s, 60);
    EXPECT_EQ(c->alert_sinks.at("cmd").kind, config::AlertSinkKind::command);
    EXPECT_EQ(c->alert_sinks.at("hook").max_attempts, 8);
}

void expect_error(const std::string& text, const std::string& needle) {
    test::TempDir dir;
    auto c = parse(dir, text);
    ASSERT_FALSE(c.has_value()) << "accepted:\n" << text;
    EXPECT_EQ(c.error().code, core::ErrorCode::config);
    EXPECT_NE(c.error().message.find(needle), std::string::npos)
        << c.error().message << " (wanted " << needle << ")";
    EXPECT_NE(c.error().message.find("cosmos.toml:"), std::string::npos) << c.error().message;
}

TEST(AlertConfig, ClearErrorsNameTheKey) {
    std::string s = k_sinks;
    expect_error(s + "[[alerts]]\nname = \"a\"\nwhen = \"run_failed\"\nsinks = [\"hook\"]\n"
                     "colour = \"red\"\n",
                 "unknown key 'colour' in [[alerts]]");
    expect_error(s + "[[alerts]]\nname = \"a\"\nwhen = \"run_exploded\"\nsinks = [\"hook\"]\n",
                 "'run_exploded' is not a condition");
    expect_error(s + "[[alerts]]\nname = \"a\"\nwhen = \"run_failed\"\nsinks = [\"pager\"]\n",
                 "unknown sink 'pager'");
    expect_error(s + "[[alerts]]\nname = \"a\"\nwhen = \"run_failed\"\nsinks = [\"hook\"]\n"
                     "min_free_gb = 3\n",
                 "sets min_free_gb, which does not apply to run_failed");
    expect_error(s + "[[alerts]]\nname = \"a\"\nwhen = \"disk_low\"\nsinks = [\"hook\"]\n"
                     "hosts = [\"nowhere\"]\n",
                 "unknown host 'nowhere'");
    expect_error(s + "[[alerts]]\nname = \"a\"\nwhen = \"run_stuck\"\nsinks = [\"hook\"]\n"
                     "for_minutes = 0\n",
                 "for_minutes");
    expect_error(s + "[[alerts]]\nname = \"a\"\nwhen = \"run_failed\"\nsinks = [\"hook\"]\n"
                     "[[alerts]]\nname = \"a\"\nwhen = \"run_stuck\"\nsinks = [\"hook\"]\n",
                 "name 'a' is used twice");
    expect_error(s + "[[alerts]]\nname = \"a\"\nsinks = [\"hook\"]\n", "needs `when`");
    expect_error(
        "[alert_sinks.s]\nkind = \"slack\"\nurl = \"https://hooks.slack.com/services/T/B/X\"\n",
        "a Slack incoming-webhook URL is a credential");
    expect_error(
        "[alert_sinks.s]\nkind = \"webhook\"\nurl = \"http://127.0.0.1/x\"\n"
        "url_file = \"/tmp/u\"\n",
        "needs either url or url_file");
    expect_error("[alert_sinks.s]\nkind = \"command\"\nurl = \"http://127.0.0.1/x\"\n",
                 "sets url, which does not apply to a command sink");
    expect_error("[alert_sinks.s]\nkind = \"pager\"\n", "'pager' is not one of webhook");
    expect_error("[alert_sinks.s]\nkind = \"webhook\"\nurl = \"ftp://x\"\n", "url");
}

TEST(AlertConfig, UrlFileFollowsTheSecretFileRules) {
    test::TempDir dir;
    auto file = dir.write("hook-url", "http://127.0.0.1:9/hook/s3cr3t-path-1234\n");
    ::chmod(file.c_str(), 0644);
    auto c = parse(dir, "[alert_sinks.s]\nkind = \"webhook\"\nurl_file = \"hook-url\"\n");
    ASSERT_TRUE(c.has_value()) << c.error().message;
    EXPECT_EQ(c->alert_sinks.at("s").url_file, file);
    auto bad = services::check_alert_sinks(*c);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code, core::ErrorCode::config);
    EXPECT_NE(bad.error().message.find("[alert_sinks.s] url_file"), std::string::npos)
        << bad.error().message;
    EXPECT_EQ(bad.error().message.find("s3cr3t"), std::string::npos) << bad.error().message;
    ::chmod(file.c_str(), 0600);
    EXPECT_TRUE(services::check_alert_sinks(*c).has_value());
    auto url = services::sink_url(c->alert_sinks.at("s"));
    ASSERT_TRUE(url.has_value());
    EXPECT_EQ(*url, "http://127.0.0.1:9/hook/s3cr3t-path-1234");
}

TEST(AlertBackoff, DoublesFromRetryAfterUpToAnHour) {
    config::AlertSink s;
    s.retry_after_s = 10;
    EXPECT_EQ(services::retry_delay_ms(s, 1), 10'000);
    EXPECT_EQ(services::retry_delay_ms(s, 2), 20'000);
    EXPECT_EQ(services::retry_delay_ms(s, 3), 40'000);
    EXPECT_EQ(services::retry_delay_ms(s, 7), 640'000);
    EXPECT_EQ(services::retry_delay_ms(s, 9), 2'560'000);
    EXPECT_EQ(services::retry_delay_ms(s, 10), 3'600'000);
    EXPECT_EQ(services::retry_delay_ms(s, 50), 3'600'000);
}

// A real database with one prompt; runs made and moved with plain SQL where the store has no
// call for a test's shortcut.
class AlertEngineTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string text = "[paths]\ndata_dir = \"" + (dir / "data").string() + "\"\n" +
                           "[alert_sinks.cmd]\nkind = \"command\"\nargv = [\"sh\", \"-c\", "
                           "\"cat >> '" +
                           (dir / "delivered.jsonl").string() +
                           "'\"]\nretry_after = 1\nmax_attempts = 2\n" + rules;
        auto c = config::parse_config(text, dir / "cosmos.toml");
        ASSERT_TRUE(c.has_value()) << c.error().message;
        std::filesystem::create_directories(dir / "data");
        auto db = store::Database::open(dir / "data" / "cosmos.db");
        ASSERT_TRUE(db.has_value());
        app.emplace(services::App{*c, std::move(*db)});
        store::PromptRecord p;
        p.id = core::new_id(core::IdKind::prompt);
        p.name = "p";
        p.prompt = "a road";
        p.input_dir = "/in";
        p.video = {640, 352, 121, 24};
        p.created_at = core::now_iso();
        ASSERT_TRUE(store::insert_prompt(app->db, p).has_value());
        prompt = p.id;
    }

    std::string run(const std::string& status, double progress = 0) {
        store::RunRecord r;
        r.id = core::new_id(core::IdKind::run);
        r.prompt_id = prompt;
        r.params.weights = {{"vis", 0.3}};
        r.created_at = core::now_iso();
        r.updated_at = r.created_at;
        EXPECT_TRUE(store::insert_run(app->db, r).has_value());
        sql("UPDATE runs SET status = ?1, host = 'local', progress = ?2, started_at = ?3, "
            "finished_at = CASE WHEN ?1 IN ('failed','succeeded') THEN ?3 END, error = "
            "CASE WHEN ?1 = 'failed' THEN 'CUDA out of memory' END WHERE id = ?4",
            status,
            progress,
            core::now_iso(),
            r.id);
        return r.id;
    }

    template <class... A>
    void sql(const std::string& q, A... args) {
        auto st = app->db.prepare(q);
        ASSERT_TRUE(st.has_value()) << st.error().message;
        int i = 0;
        (st->bind(++i, args), ...);
        ASSERT_TRUE(st->run().has_value());
    }

    std::vector<std::string> notes;
    services::AlertEngine engine() {
        return services::AlertEngine(app->config,
                                     [this](const std::string& l) { notes.push_back(l); });
    }

    std::string rules = R"(
[[alerts]]
name = "failed"
when = "run_failed"
sinks = ["cmd"]

[[alerts]]
name = "stuck"
when = "run_stuck"
for_minutes = 1
sinks = ["cmd"]
)";
    test::TempDir dir;
    std::optional<services::App> app;
    std::string prompt;
};

TEST_F(AlertEngineTest, AFailedRunFiresOnceAndIsDeliveredOnce) {
    auto e = engine();
    std::int64_t now = core::now_ms();
    auto first = e.check(*app, now);  // the rule starts watching now: older failures don't count
    ASSERT_TRUE(first.has_value()) << first.error().message;
    EXPECT_TRUE(first->fired.empty());
    std::string failed = run("failed");
    for (int i = 0; i < 3; ++i) {
        auto pass = e.check(*app, core::now_ms() + 1000);
        ASSERT_TRUE(pass.has_value()) << pass.error().message;
        EXPECT_EQ(pass->fired.size(), i == 0 ? 1u : 0u);
        EXPECT_TRUE(pass->resolved.empty());
    }
    auto listed = store::list_alerts(app->db, true, "", 100);
    ASSERT_TRUE(listed.has_value());
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ((*listed)[0].state, "event");
    EXPECT_EQ((*listed)[0].subject, failed);
    EXPECT_NE((*listed)[0].summary.find("CUDA out of memory"), std::string::npos);
    std::string body = read_all(dir / "delivered.jsonl");
    ASSERT_EQ(std::count(body.begin(), body.end(), '\n'), 1) << body;
    auto j = nlohmann::json::parse(body);
    EXPECT_EQ(j["status"], "firing");
    EXPECT_EQ(j["rule"], "failed");
    EXPECT_EQ(j["condition"], "run_failed");
    EXPECT_EQ(j["run"], failed);
    EXPECT_EQ(j["host"], "local");
    EXPECT_TRUE(j["cosmos"].contains("version"));
}

TEST_F(AlertEngineTest, AStuckRunFiresThenResolvesWhenItMoves) {
    auto e = engine();
    std::string r = run("running", 0.0);
    // Its start is the last change it made: no alert before a minute has passed.
    std::int64_t now = core::now_ms();
    auto early = e.evaluate(*app, now + 30'000);
    ASSERT_TRUE(early.has_value());
    EXPECT_TRUE(early->fired.empty());
    auto late = e.evaluate(*app, now + 61'000);
    ASSERT_TRUE(late.has_value());
    ASSERT_EQ(late->fired.size(), 1u);
    EXPECT_EQ(late->fired[0].subject, r);
    auto again = e.evaluate(*app, now + 62'000);
    ASSERT_TRUE(again.has_value());
    EXPECT_TRUE(again->fired.empty());  // fires once, not every pass
    sql("UPDATE runs SET progress = 0.5 WHERE id = ?", r);
    auto moved = e.evaluate(*app, now + 63'000);
    ASSERT_TRUE(moved.has_value());
    ASSERT_EQ(moved->resolved.size(), 1u);
    EXPECT_EQ(moved->resolved[0].subject, r);
    auto listed = store::list_alerts(app->db, false, "", 100);
    ASSERT_TRUE(listed.has_value());
    EXPECT_TRUE(listed->empty());
    // Stuck again at 50 % a minute later: a second alert (a new episode).
    auto stuck2 = e.evaluate(*app, now + 63'000 + 61'000);
    ASSERT_TRUE(stuck2.has_value());
    EXPECT_EQ(stuck2->fired.size(), 1u);
    auto deliveries = store::deliveries_of(app->db, stuck2->fired[0].id);
    ASSERT_TRUE(deliveries.has_value());
    ASSERT_EQ(deliveries->size(), 1u);
    EXPECT_EQ((*deliveries)[0].status, "firing");
}

TEST_F(AlertEngineTest, TwoConnectionsEvaluatingAtOnceFireOnce) {
    ASSERT_TRUE(engine().evaluate(*app, core::now_ms()).has_value());
    for (int i = 0; i < 5; ++i) {
        run("failed");
    }
    std::vector<std::thread> threads;
    std::atomic<int> fired{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            auto db = store::Database::open(dir / "data" / "cosmos.db");
            ASSERT_TRUE(db.has_value());
            services::App other{app->config, std::move(*db)};
            services::AlertEngine e(other.config, [](const std::string&) {});
            for (int i = 0; i < 5; ++i) {
                auto pass = e.evaluate(other, core::now_ms() + 1000);
                ASSERT_TRUE(pass.has_value()) << pass.error().message;
                fired += static_cast<int>(pass->fired.size());
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(fired.load(), 5);
    auto claimed = store::claim_deliveries(app->db, core::now_ms() + 1000, 60'000, 100);
    ASSERT_TRUE(claimed.has_value());
    EXPECT_EQ(claimed->size(), 5u);
    // Claimed rows are not handed to a second claimer.
    auto again = store::claim_deliveries(app->db, core::now_ms() + 1000, 60'000, 100);
    ASSERT_TRUE(again.has_value());
    EXPECT_TRUE(again->empty());
}

TEST_F(AlertEngineTest, AFailingSinkIsRetriedWithBackoffThenGivenUp) {
    app->config.alert_sinks.at("cmd").argv = {"sh", "-c", "cat > /dev/null; echo down >&2; exit 3"};
    auto e = engine();
    std::int64_t now = core::now_ms();
    ASSERT_TRUE(e.evaluate(*app, now).has_value());
    run("failed");
    auto pass = e.check(*app, now + 1000);
    ASSERT_TRUE(pass.has_value());
    ASSERT_EQ(pass->fired.size(), 1u);
    EXPECT_EQ(pass->failed_attempts, 1);
    auto ds = store::deliveries_of(app->db, pass->fired[0].id);
    ASSERT_TRUE(ds.has_value());
    ASSERT_EQ(ds->size(), 1u);
    EXPECT_EQ((*ds)[0].state, "pending");
    EXPECT_EQ((*ds)[0].attempts, 1);
    EXPECT_NE((*ds)[0].last_error->find("exited with 3: down"), std::string::npos);
    EXPECT_GE((*ds)[0].next_at_ms, core::now_ms() + 500);  // retry_after = 1 s
    // Not due yet: nothing is tried.
    services::AlertPass idle;
    ASSERT_TRUE(e.deliver(*app, core::now_ms(), idle).has_value());
    EXPECT_EQ(idle.failed_attempts + idle.given_up, 0);
    services::AlertPass last;
    ASSERT_TRUE(e.deliver(*app, core::now_ms() + 5000, last).has_value());
    EXPECT_EQ(last.given_up, 1);  // max_attempts = 2
    ds = store::deliveries_of(app->db, pass->fired[0].id);
    ASSERT_TRUE(ds.has_value());
    EXPECT_EQ((*ds)[0].state, "failed");
    ASSERT_FALSE(notes.empty());
    EXPECT_NE(notes.back().find("gave up after 2 attempt(s)"), std::string::npos) << notes.back();
}

TEST_F(AlertEngineTest, GpuIdleWhileJobsWait) {
    rules = "";
    app->config.alerts.clear();
    config::AlertRule rule;
    rule.name = "idle";
    rule.when = config::AlertCondition::gpu_idle;
    rule.for_minutes = 10;
    rule.below_percent = 5;
    rule.sinks = {"cmd"};
    app->config.alerts.push_back(rule);
    std::int64_t now = core::now_ms();
    for (int m = 0; m <= 10; ++m) {
        std::int64_t t = now - (10 - m) * 60'000;
        sql("INSERT INTO gpu_samples (host, gpu, span_s, t_ms, n, util_mean, util_max, "
            "mem_mean_mib, mem_max_mib, mem_total_mib) VALUES ('local', 0, 0, ?, 1, 95, 97, 1, 1, "
            "80000), ('local', 1, 0, ?, 1, 1, 2, 1, 1, 80000)",
            t,
            t);
    }
    auto e = engine();
    auto none = e.evaluate(*app, now);
    ASSERT_TRUE(none.has_value()) << none.error().message;
    EXPECT_TRUE(none->fired.empty());  // nothing waits
    std::string r = run("queued");
    store::EnqueueRequest req;
    req.run_id = r;
    ASSERT_TRUE(store::enqueue_job(app->db, req).has_value());
    auto idle = e.evaluate(*app, now);
    ASSERT_TRUE(idle.has_value());
    ASSERT_EQ(idle->fired.size(), 1u);
    EXPECT_EQ(idle->fired[0].subject, "local");
    EXPECT_NE(idle->fired[0].summary.find("GPU 1 below 5%"), std::string::npos)
        << idle->fired[0].summary;
    sql("DELETE FROM jobs");
    auto gone = e.evaluate(*app, now);
    ASSERT_TRUE(gone.has_value());
    EXPECT_EQ(gone->resolved.size(), 1u);
}

}  // namespace
