// /metrics: the aggregate queries over a real SQLite file, and the exposition text (escaping,
// cumulative histogram buckets, GPU series only for reachable hosts, no run id as a label).

#include "web/metrics.hpp"

#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "store/prompt_store.hpp"
#include "store/queue_store.hpp"
#include "store/run_store.hpp"
#include "support/temp_dir.hpp"

namespace cosmos::web {
namespace {

using store::RunStatus;

TEST(Metrics, SnapshotCountsRunsLoadsDurationsAndTheQueue) {
    test::TempDir dir;
    auto db = store::Database::open(dir / "cosmos.db");
    ASSERT_TRUE(db);
    store::PromptRecord p;
    p.id = core::new_id(core::IdKind::prompt);
    p.name = "m";
    p.prompt = "a road";
    p.input_dir = "/in";
    p.video = {640, 352, 121, 24};
    p.created_at = core::now_iso();
    ASSERT_TRUE(store::insert_prompt(*db, p));
    auto run = [&](RunStatus status, const char* set) {
        store::RunRecord r;
        r.id = core::new_id(core::IdKind::run);
        r.prompt_id = p.id;
        r.status = status;
        r.created_at = core::now_iso();
        r.updated_at = r.created_at;
        EXPECT_TRUE(store::insert_run(*db, r));
        EXPECT_TRUE(db->exec(fmt::format("UPDATE runs SET {} WHERE id = '{}'", set, r.id)));
        return r.id;
    };
    // Two runs of one batch (one load), one on its own, one failed fast, one never started.
    run(RunStatus::succeeded, "started_at = 'x', batch_id = 'b1', run_seconds = 100");
    run(RunStatus::succeeded, "started_at = 'x', batch_id = 'b1', run_seconds = 100");
    run(RunStatus::succeeded,
        "started_at = 'x', run_seconds = 4000, uploaded_bytes = 1000, upload_seconds = 0.3");
    run(RunStatus::failed, "started_at = 'x', run_seconds = 2, download_seconds = 7");
    auto queued = run(RunStatus::pending, "model = 'transfer2.5'");
    store::EnqueueRequest req;
    req.run_id = queued;
    ASSERT_TRUE(store::enqueue_job(*db, req));

    auto m = store::metrics_snapshot(*db, core::now_ms());
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ((m->runs[{"succeeded", "transfer1"}]), 3);
    EXPECT_EQ((m->runs[{"failed", "transfer1"}]), 1);
    EXPECT_EQ((m->runs[{"queued", "transfer2.5"}]), 1);
    EXPECT_EQ(m->model_loads["transfer1"], 3);  // b1, the lone run, the failed one
    EXPECT_EQ(m->model_loads.count("transfer2.5"), 0u);
    EXPECT_EQ(m->staged_bytes, 1000);
    EXPECT_EQ(m->jobs["queued"], 1);
    EXPECT_EQ(m->jobs["running"], 0);
    EXPECT_GE(m->oldest_queued_age_seconds, 0);
    const auto& h = m->run_seconds["transfer1"];
    EXPECT_EQ(h.count, 4);
    EXPECT_DOUBLE_EQ(h.sum, 4202);
    ASSERT_EQ(h.bounds.front(), 5);
    EXPECT_EQ(h.counts.front(), 1);  // the 2 s run
    EXPECT_EQ(h.counts[5], 3);       // within 300 s: all but the 4000 s one
    EXPECT_EQ(h.counts.back(), 4);   // within 14400 s: all
    EXPECT_EQ(m->upload_seconds.count, 1);
    EXPECT_EQ(m->download_seconds.count, 1);
}

TEST(Metrics, ExpositionEscapesAndKeepsLabelsBounded) {
    store::MetricsSnapshot m;
    m.runs[{"succeeded", "transfer1"}] = 3;
    m.jobs["queued"] = 2;
    store::DurationHistogram h;
    h.bounds = store::run_duration_bounds();
    h.counts.assign(h.bounds.size(), 1);
    h.count = 2;
    h.sum = 9000.5;
    m.run_seconds["transfer1"] = h;
    nlohmann::ordered_json hosts = {
        {"gpu\"1",
         {{"reachable", true},
          {"free_bytes", 1e9},
          {"gpus",
           {{{"index", 0}, {"utilization_percent", 93}, {"memory_used_mib", 1024}},
            {{"index", 1}, {"utilization_percent", 0}, {"memory_used_mib", 0}}}}}},
        {"down", {{"reachable", false}, {"gpus", {{{"index", 0}, {"utilization_percent", 50}}}}}}};
    std::string text = render_metrics(m, hosts, ServerGauges{3});
    EXPECT_NE(text.find("# TYPE cosmos_runs gauge\ncosmos_runs{status=\"succeeded\",model="
                        "\"transfer1\"} 3\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("cosmos_gpu_utilization_ratio{host=\"gpu\\\"1\",gpu=\"0\"} 0.93\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("cosmos_gpu_memory_used_bytes{host=\"gpu\\\"1\",gpu=\"0\"} 1073741824\n"),
              std::string::npos);
    EXPECT_EQ(text.find("host=\"down\",gpu"), std::string::npos);  // unreachable: no GPU series
    EXPECT_NE(text.find("cosmos_host_up{host=\"down\"} 0\n"), std::string::npos);
    EXPECT_NE(text.find("cosmos_run_duration_seconds_bucket{model=\"transfer1\",le=\"+Inf\"} 2\n"),
              std::string::npos);
    EXPECT_NE(text.find("cosmos_run_duration_seconds_sum{model=\"transfer1\"} 9000.5\n"),
              std::string::npos);
    EXPECT_NE(text.find("cosmos_ui_event_streams 3\n"), std::string::npos);
    EXPECT_EQ(escape_label("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    // Every sample line is NAME{labels} VALUE or NAME VALUE, with a declared family.
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("#")) {
            continue;
        }
        auto name = line.substr(0, line.find_first_of("{ "));
        auto family = name;
        for (const char* suffix : {"_bucket", "_sum", "_count"}) {
            if (family.ends_with(suffix) &&
                text.find("# TYPE " + family + " ") == std::string::npos) {
                family = family.substr(0, family.size() - std::string(suffix).size());
            }
        }
        EXPECT_NE(text.find("# TYPE " + family + " "), std::string::npos) << line;
        EXPECT_EQ(line.find("rs_"), std::string::npos) << line;
    }
}

}  // namespace
}  // namespace cosmos::web
