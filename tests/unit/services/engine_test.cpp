// The run engine end to end in milliseconds, with fakes only at its two seams (FakeModel for the
// Runtime, FlakyShell for the Shell: tests/support/engine_fakes.hpp): a run's whole life, model
// failures, a batch with a guardrail-blocked line, a host that drops mid-watch, and a worker
// that lost its lease. Everything above the seams — staging, launch, watch, collect,
// decide_outcome, the store — is the real code on a real SQLite file.

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "scheduler/batch.hpp"
#include "scheduler/claim.hpp"
#include "services/create_run.hpp"
#include "services/execute_run.hpp"
#include "services/queue.hpp"
#include "store/prompt_store.hpp"
#include "store/queue_store.hpp"
#include "store/run_store.hpp"
#include "support/engine_fakes.hpp"
#include "support/temp_dir.hpp"

using namespace cosmos;

namespace {

std::string read(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class EngineTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto db = store::Database::open(dir / "data" / "cosmos.db");
        ASSERT_TRUE(db.has_value()) << db.error().message;
        config::Config c;
        c.paths.data_dir = dir / "data";
        config::HostConfig local;
        local.name = "local";
        local.gpus = 2;
        local.cosmos_dir = dir / "checkout";
        local.checkpoint_dir = dir / "checkout" / "checkpoints";
        local.work_dir = dir / "work";
        local.torchrun = "/bin/sh";  // runnable: the launcher check passes
        dir.write("checkout/cosmos_transfer1/diffusion/inference/transfer.py", "# entry\n");
        c.hosts["local"] = local;
        app.emplace(services::App{std::move(c), std::move(*db)});
        prompt = add_prompt();
    }

    std::string add_prompt() {
        store::PromptRecord p;
        p.id = core::new_id(core::IdKind::prompt);
        p.name = "harbour";
        p.prompt = "a harbour at dawn";
        p.input_dir = (dir / "in").string();
        p.input_video = dir.write("in/color.mp4", "color video bytes").string();
        p.controls = {{"depth", dir.write("in/depth.mp4", "depth video bytes").string()}};
        p.video = {640, 352, 121, 24};
        p.created_at = core::now_iso();
        EXPECT_TRUE(store::insert_prompt(app->db, p).has_value());
        return p.id;
    }

    store::RunRecord new_run() {
        services::RunOptions opts;
        opts.weight["depth"] = 0.5;
        auto run = services::create_run(*app, prompt, opts);
        EXPECT_TRUE(run.has_value()) << run.error().message;
        return *run;
    }

    store::RunRecord execute(const store::RunRecord& run) {
        auto done = services::execute_run(*app, run.id, {});
        EXPECT_TRUE(done.has_value()) << done.error().message;
        return done ? *done : run;
    }

    test::TempDir dir;
    std::optional<services::App> app;
    std::string prompt;
};

TEST_F(EngineTest, ARunsWholeLife) {
    test::SeamsGuard seams({0, 2, {true}});
    auto run = execute(new_run());
    EXPECT_EQ(run.status, store::RunStatus::succeeded) << run.error.value_or("");
    EXPECT_EQ(run.exit_code, 0);
    EXPECT_EQ(run.progress, 1.0);
    EXPECT_EQ(run.host, "local");
    ASSERT_TRUE(run.remote_dir);
    EXPECT_EQ(*run.remote_dir, (dir / "work" / "jobs" / run.id).string());
    // The command and spec as launched: the job's own paths.
    ASSERT_TRUE(run.command && run.spec);
    EXPECT_NE(run.command->find("transfer.py"), std::string::npos);
    EXPECT_NE(run.spec->find(*run.remote_dir + "/inputs/color.mp4"), std::string::npos);
    // Log and outputs came home; the inputs were staged once into the cache.
    auto run_dir = app->run_dir(run.id);
    EXPECT_EQ(read(run_dir / "outputs" / "output.mp4"), "video\n");
    EXPECT_NE(read(run_dir / "run.log").find("Saved video to"), std::string::npos);
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir / "work" / "cache"), {}), 2);
    auto events = store::run_events(app->db, run.id);
    ASSERT_TRUE(events.has_value());
    std::vector<store::RunStatus> statuses;
    for (const auto& e : *events) {
        statuses.push_back(e.status);
    }
    EXPECT_EQ(statuses,
              (std::vector<store::RunStatus>{store::RunStatus::pending,
                                             store::RunStatus::running,
                                             store::RunStatus::running,
                                             store::RunStatus::succeeded}));
}

TEST_F(EngineTest, ModelFailuresAreRecordedWithTheirReason) {
    {
        test::SeamsGuard seams({1, 1, {false}, false, "RuntimeError: CUDA error: boom"});
        auto run = execute(new_run());
        EXPECT_EQ(run.status, store::RunStatus::failed);
        EXPECT_EQ(run.exit_code, 1);
        EXPECT_NE(run.error.value_or("").find("RuntimeError: CUDA error: boom"), std::string::npos);
    }
    {
        test::SeamsGuard seams({0, 1, {false}, true});
        auto run = execute(new_run());
        EXPECT_EQ(run.status, store::RunStatus::failed);
        EXPECT_NE(run.error.value_or("").find("guardrail"), std::string::npos) << *run.error;
    }
    {
        test::SeamsGuard seams({0, 1, {false}});
        auto run = execute(new_run());
        EXPECT_NE(run.error.value_or("").find("wrote no output video"), std::string::npos);
    }
}

TEST_F(EngineTest, ABatchWithAGuardrailBlockedLine) {
    test::SeamsGuard seams({0, 3, {true, false, true}, true});
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        ids.push_back(new_run().id);
    }
    scheduler::BatchOptions opts;
    opts.host = "local";
    auto result = scheduler::execute_batch(*app, core::new_id(core::IdKind::batch), ids, opts);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    // One model load for the three: one job dir, the batch's, holding one exit code.
    std::vector<std::string> jobs;
    for (const auto& e : std::filesystem::directory_iterator(dir / "work" / "jobs")) {
        jobs.push_back(e.path().filename().string());
    }
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].rfind("bat_", 0), 0u);
    EXPECT_EQ(read(dir / "work" / "jobs" / jobs[0] / "exit_code"), "0\n");
    ASSERT_EQ(result->runs.size(), 3u);
    EXPECT_EQ(result->runs[0].status, store::RunStatus::succeeded);
    EXPECT_EQ(result->runs[1].status, store::RunStatus::failed);
    EXPECT_NE(result->runs[1].error.value_or("").find("batch line 1: the safety guardrail"),
              std::string::npos)
        << result->runs[1].error.value_or("");
    EXPECT_EQ(result->runs[2].status, store::RunStatus::succeeded);
    EXPECT_TRUE(result->requeued.empty());
    EXPECT_EQ(read(app->run_dir(ids[2]) / "outputs" / "output.mp4"), "video\n");
}

TEST_F(EngineTest, ABatchWhoseModelDiedRequeuesTheLinesThatNeverRan) {
    test::SeamsGuard seams({1, 1, {true, false, false}, false, "RuntimeError: boom"});
    std::vector<std::string> ids{new_run().id, new_run().id, new_run().id};
    scheduler::BatchOptions opts;
    opts.host = "local";
    auto result = scheduler::execute_batch(*app, core::new_id(core::IdKind::batch), ids, opts);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(result->runs[0].status, store::RunStatus::succeeded);
    EXPECT_EQ(result->runs[1].status, store::RunStatus::failed);  // the line it died on
    EXPECT_EQ(result->runs[2].status, store::RunStatus::queued);  // never ran: back in the queue
    EXPECT_EQ(result->requeued, std::vector<std::string>{ids[2]});
}

TEST_F(EngineTest, AHostThatDropsMidWatchIsFollowedAgainWithoutDuplicatedLines) {
    auto shell = std::make_shared<test::FlakyShell>(2, 2);
    test::SeamsGuard seams({0, 3, {true}}, shell);
    auto run = execute(new_run());
    EXPECT_EQ(run.status, store::RunStatus::succeeded) << run.error.value_or("");
    EXPECT_GE(shell->streams(), 3);
    auto log = read(app->run_dir(run.id) / "run.log");
    std::size_t count = 0;
    for (auto at = log.find("Completed diffusion sampling"); at != std::string::npos;
         at = log.find("Completed diffusion sampling", at + 1)) {
        ++count;
    }
    EXPECT_EQ(count, 3u) << log;
}

TEST_F(EngineTest, AWorkerThatLostItsLeaseCannotCompleteTheJob) {
    test::SeamsGuard seams({0, 1, {true}});
    auto run = new_run();
    auto job = services::enqueue_run(*app, run.id, {});
    ASSERT_TRUE(job.has_value()) << job.error().message;
    scheduler::ClaimRequest mine{"worker-a", 1000, 1000, {{"local", 2}}, 1};
    auto claimed = scheduler::claim_job(app->db, mine);
    ASSERT_TRUE(claimed.has_value() && claimed->has_value());
    // Worker A stalls past its lease; worker B takes the job over.
    auto taken = store::claim_expired_jobs(app->db, "worker-b", 30000, 5000);
    ASSERT_TRUE(taken.has_value());
    ASSERT_EQ(taken->size(), 1u);
    EXPECT_EQ(*store::renew_lease(app->db, job->id, "worker-a", 1000, 5001), false);
    // A's late completion is refused; B's stands.
    EXPECT_FALSE(
        store::complete_job(app->db, job->id, "worker-a", store::JobState::failed, "late"));
    EXPECT_TRUE(store::complete_job(app->db, job->id, "worker-b", store::JobState::done, ""));
    auto after = store::get_job(app->db, job->id);
    ASSERT_TRUE(after.has_value() && after->has_value());
    EXPECT_EQ((*after)->state, store::JobState::done);
}

}  // namespace
