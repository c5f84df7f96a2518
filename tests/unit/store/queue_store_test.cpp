// The persistent queue on a real SQLite file: order, atomic claims (scheduler::claim_batch over
// the store's snapshot and claim write) under threads and processes, GPU placement, leases and
// their expiry, retry release, dependencies, pause, cancel and move.

#include "store/queue_store.hpp"

#include <algorithm>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "scheduler/claim.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"
#include "support/temp_dir.hpp"

using namespace cosmos;
using namespace cosmos::store;
using cosmos::scheduler::claim_batch;
using cosmos::scheduler::claim_job;
using cosmos::scheduler::ClaimRequest;
using cosmos::scheduler::HostCapacity;

namespace {

Database open_db(const std::filesystem::path& path) {
    auto db = Database::open(path);
    if (!db) {
        throw std::runtime_error(db.error().message);
    }
    return std::move(*db);
}

class QueueStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        PromptRecord p;
        p.id = core::new_id(core::IdKind::prompt);
        p.name = "q";
        p.prompt = "a road";
        p.negative_prompt = "";
        p.input_dir = "/in";
        p.video = {640, 352, 121, 24};
        p.created_at = core::now_iso();
        ASSERT_TRUE(insert_prompt(db, p).has_value());
        prompt_id = p.id;
    }

    std::string new_run(int gpus = 1) {
        RunRecord r;
        r.id = core::new_id(core::IdKind::run);
        r.prompt_id = prompt_id;
        r.params.weights = {{"vis", 0.3}};
        r.params.num_gpus = gpus;
        r.created_at = core::now_iso();
        r.updated_at = r.created_at;
        EXPECT_TRUE(insert_run(db, r).has_value());
        return r.id;
    }

    JobRecord enqueue(const std::string& run,
                      int priority = 0,
                      int gpus = 1,
                      std::optional<std::string> after = {}) {
        EnqueueRequest req;
        req.run_id = run;
        req.priority = priority;
        req.gpus = gpus;
        req.depends_on = std::move(after);
        auto job = enqueue_job(db, req);
        EXPECT_TRUE(job.has_value()) << (job ? "" : job.error().message);
        return *job;
    }

    std::optional<JobRecord> claim(const std::string& owner,
                                   std::vector<HostCapacity> hosts = {{"h1", 2}},
                                   std::int64_t now = 1000,
                                   std::int64_t lease = 5000) {
        auto j = claim_job(db, ClaimRequest{owner, lease, now, std::move(hosts)});
        EXPECT_TRUE(j.has_value()) << (j ? "" : j.error().message);
        return j ? *j : std::nullopt;
    }

    RunStatus status(const std::string& run) { return (*get_run(db, run))->status; }

    test::TempDir dir;
    Database db = open_db(dir / "cosmos.db");
    std::string prompt_id;
};

TEST_F(QueueStoreTest, EnqueueMovesRunToQueuedAndRefusesDuplicates) {
    auto run = new_run();
    auto job = enqueue(run);
    EXPECT_EQ(job.state, JobState::queued);
    EXPECT_EQ(job.run_id, run);
    EXPECT_EQ(status(run), RunStatus::queued);
    auto again = enqueue_job(db, EnqueueRequest{run});
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().code, core::ErrorCode::conflict);
}

TEST_F(QueueStoreTest, ClaimsByPriorityThenOrderAndPlacesOnFreeGpus) {
    auto a = new_run();
    auto b = new_run();
    auto c = new_run();
    enqueue(a);
    enqueue(b);
    enqueue(c, 5);
    auto first = claim("w");
    ASSERT_TRUE(first);
    EXPECT_EQ(first->run_id, c);
    EXPECT_EQ(first->state, JobState::running);
    EXPECT_EQ(first->host, "h1");
    EXPECT_EQ(first->gpu_ids, std::vector<int>{0});
    EXPECT_EQ(first->attempts, 1);
    auto second = claim("w");
    ASSERT_TRUE(second);
    EXPECT_EQ(second->run_id, a);
    EXPECT_EQ(second->gpu_ids, std::vector<int>{1});
    EXPECT_FALSE(claim("w"));  // both GPUs of h1 busy
    auto third = claim("w", {{"h1", 2}, {"h2", 2}});
    ASSERT_TRUE(third);
    EXPECT_EQ(third->run_id, b);
    EXPECT_EQ(third->host, "h2");
    ASSERT_TRUE(complete_job(db, first->id, "w", JobState::done).has_value());
    auto d = new_run();
    enqueue(d);
    auto fourth = claim("w", {{"h1", 2}});
    ASSERT_TRUE(fourth);
    EXPECT_EQ(fourth->gpu_ids, std::vector<int>{0});  // freed by the completed job
}

TEST_F(QueueStoreTest, MultiGpuJobsBackfillAndBalance) {
    auto big = new_run(2);
    auto small = new_run(1);
    enqueue(big, 0, 2);
    enqueue(small, 0, 1);
    // h1 has one GPU busy; the 2-GPU job goes to h2, the small one to the freer host.
    auto busy = new_run();
    enqueue(busy, 10);
    auto b = claim("w", {{"h1", 2}});
    ASSERT_TRUE(b);
    EXPECT_EQ(b->run_id, busy);
    auto j1 = claim("w", {{"h1", 2}, {"h2", 2}});
    ASSERT_TRUE(j1);
    EXPECT_EQ(j1->run_id, big);
    EXPECT_EQ(j1->host, "h2");
    EXPECT_EQ(j1->gpu_ids, (std::vector<int>{0, 1}));
    auto j2 = claim("w", {{"h1", 2}, {"h2", 2}});
    ASSERT_TRUE(j2);
    EXPECT_EQ(j2->run_id, small);
    EXPECT_EQ(j2->host, "h1");
    EXPECT_EQ(j2->gpu_ids, std::vector<int>{1});
}

TEST_F(QueueStoreTest, LeasesRenewExpireAndAreTakenOver) {
    auto run = new_run();
    enqueue(run);
    auto job = claim("w1", {{"h1", 2}}, 1000, 5000);
    ASSERT_TRUE(job);
    EXPECT_TRUE(*renew_lease(db, job->id, "w1", 5000, 3000));  // now expires at 8000
    EXPECT_FALSE(*renew_lease(db, job->id, "w2", 5000, 3000));
    EXPECT_TRUE(claim_expired_jobs(db, "w2", 5000, 7000)->empty());
    auto taken = claim_expired_jobs(db, "w2", 5000, 9000);
    ASSERT_TRUE(taken && taken->size() == 1);
    EXPECT_EQ(taken->front().lease_owner, "w2");
    EXPECT_EQ(taken->front().host, "h1");
    EXPECT_EQ(taken->front().gpu_ids, std::vector<int>{0});
    EXPECT_EQ(taken->front().attempts, 1);                      // re-attaching is not a new attempt
    EXPECT_FALSE(*renew_lease(db, job->id, "w1", 5000, 9000));  // the old owner lost it
    EXPECT_FALSE(complete_job(db, job->id, "w1", JobState::done).has_value());
    EXPECT_TRUE(complete_job(db, job->id, "w2", JobState::done).has_value());
    EXPECT_EQ(*pending_work(db, 20000), 0);
}

TEST_F(QueueStoreTest, ReleaseRetriesWithBackoffThenGivesUp) {
    auto run = new_run();
    EnqueueRequest req{run};
    req.max_attempts = 2;
    ASSERT_TRUE(enqueue_job(db, req).has_value());
    auto j = claim("w", {{"h1", 1}}, 1000);
    ASSERT_TRUE(j);
    EXPECT_EQ(*release_job(db, j->id, "w", 4000, "host unreachable"), JobState::queued);
    EXPECT_FALSE(claim("w", {{"h1", 1}}, 3000));  // backing off
    auto again = claim("w", {{"h1", 1}}, 4000);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->attempts, 2);
    EXPECT_EQ(*release_job(db, j->id, "w", 8000, "host unreachable"), JobState::failed);
    EXPECT_EQ(status(run), RunStatus::failed);
    EXPECT_FALSE(claim("w", {{"h1", 1}}, 9000));
}

TEST_F(QueueStoreTest, DependenciesWaitForSuccessAndCancelOnFailure) {
    auto parent = new_run();
    auto child = new_run();
    auto other_parent = new_run();
    auto orphan = new_run();
    enqueue(parent);
    enqueue(child, 100, 1, parent);
    enqueue(other_parent);
    enqueue(orphan, 100, 1, other_parent);
    auto p = claim("w", {{"h1", 4}});
    ASSERT_TRUE(p);
    EXPECT_EQ(p->run_id, parent);  // the children outrank it but must wait
    auto op = claim("w", {{"h1", 4}});
    ASSERT_TRUE(op);
    EXPECT_EQ(op->run_id, other_parent);
    EXPECT_FALSE(claim("w", {{"h1", 4}}));
    ASSERT_TRUE(transition_run(db, parent, RunStatus::succeeded).has_value());
    ASSERT_TRUE(complete_job(db, p->id, "w", JobState::done).has_value());
    ASSERT_TRUE(transition_run(db, other_parent, RunStatus::failed, "boom").has_value());
    ASSERT_TRUE(complete_job(db, op->id, "w", JobState::failed).has_value());
    auto c = claim("w", {{"h1", 4}});
    ASSERT_TRUE(c);
    EXPECT_EQ(c->run_id, child);
    EXPECT_EQ(status(orphan), RunStatus::cancelled);
    EXPECT_EQ((*job_for_run(db, orphan))->state, JobState::cancelled);
}

TEST_F(QueueStoreTest, PauseCancelAndMove) {
    auto a = new_run();
    auto b = new_run();
    auto c = new_run();
    auto ja = enqueue(a);
    auto jb = enqueue(b);
    auto jc = enqueue(c);
    ASSERT_TRUE(set_queue_paused(db, true).has_value());
    EXPECT_FALSE(claim("w"));
    EXPECT_EQ(*pending_work(db, 1000), 0);
    ASSERT_TRUE(set_queue_paused(db, false).has_value());
    ASSERT_TRUE(set_job_paused(db, ja.id, true).has_value());
    ASSERT_TRUE(move_job(db, jc.id, 1, std::nullopt).has_value());
    auto list = *list_jobs(db);
    ASSERT_EQ(list.size(), 3U);
    EXPECT_EQ(list[0].id, jc.id);
    EXPECT_EQ(list[1].id, ja.id);
    EXPECT_EQ(list[2].id, jb.id);
    auto first = claim("w", {{"h1", 4}});
    ASSERT_TRUE(first);
    EXPECT_EQ(first->run_id, c);
    auto second = claim("w", {{"h1", 4}});
    ASSERT_TRUE(second);
    EXPECT_EQ(second->run_id, b);  // a is paused
    EXPECT_TRUE(*cancel_job(db, ja.id));
    EXPECT_EQ(status(a), RunStatus::cancelled);
    EXPECT_FALSE(*cancel_job(db, second->id));  // running: flagged for its worker
    EXPECT_TRUE((*get_job(db, second->id))->cancel_requested);
    EXPECT_FALSE(cancel_job(db, ja.id).has_value());  // already ended
    auto d = new_run();
    auto jd = enqueue(d);
    ASSERT_TRUE(move_job(db, jd.id, std::nullopt, 7).has_value());
    EXPECT_EQ((*get_job(db, jd.id))->priority, 7);
}

TEST_F(QueueStoreTest, ConcurrentThreadsClaimEachJobOnce) {
    constexpr int k_jobs = 40;
    for (int i = 0; i < k_jobs; ++i) {
        enqueue(new_run());
    }
    std::mutex m;
    std::vector<std::string> claimed;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            Database mine = open_db(dir / "cosmos.db");
            std::string owner = "t" + std::to_string(t);
            for (;;) {
                auto j = claim_job(mine, ClaimRequest{owner, 5000, 1000, {{"h1", 1000}}});
                ASSERT_TRUE(j.has_value()) << j.error().message;
                if (!*j) {
                    break;
                }
                std::lock_guard<std::mutex> lock(m);
                claimed.push_back((*j)->id);
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    std::set<std::string> unique(claimed.begin(), claimed.end());
    EXPECT_EQ(claimed.size(), static_cast<std::size_t>(k_jobs));
    EXPECT_EQ(unique.size(), static_cast<std::size_t>(k_jobs));
}

TEST_F(QueueStoreTest, ConcurrentProcessesClaimEachJobOnce) {
    constexpr int k_jobs = 30;
    for (int i = 0; i < k_jobs; ++i) {
        enqueue(new_run());
    }
    std::vector<pid_t> children;
    for (int p = 0; p < 2; ++p) {
        pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            int rc = 0;
            try {
                Database mine = open_db(dir / "cosmos.db");
                std::ofstream out(dir / ("claims" + std::to_string(p)));
                for (;;) {
                    auto j = claim_job(mine, ClaimRequest{"p", 5000, 1000, {{"h1", 1000}}});
                    if (!j) {
                        rc = 2;
                        break;
                    }
                    if (!*j) {
                        break;
                    }
                    out << (*j)->id << "\n";
                }
            } catch (...) {
                rc = 3;
            }
            _exit(rc);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children) {
        int st = 0;
        waitpid(pid, &st, 0);
        EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    std::vector<std::string> all;
    for (int p = 0; p < 2; ++p) {
        std::ifstream in(dir / ("claims" + std::to_string(p)));
        std::string line;
        while (std::getline(in, line)) {
            all.push_back(line);
        }
    }
    std::set<std::string> unique(all.begin(), all.end());
    EXPECT_EQ(all.size(), static_cast<std::size_t>(k_jobs));
    EXPECT_EQ(unique.size(), static_cast<std::size_t>(k_jobs));
}

// Batching: one claim takes compatible jobs (same key) up to the fair share of the free GPU
// slots, gives them one batch id, one set of GPUs and their line numbers, and never mixes keys.
TEST_F(QueueStoreTest, ClaimsCompatibleJobsAsOneBatchWithinTheFairShare) {
    std::vector<std::string> a_runs;
    for (int i = 0; i < 12; ++i) {
        EnqueueRequest req{new_run()};
        req.batch_key = i % 3 == 2 ? "B" : "A";  // 8 of A, 4 of B, interleaved
        ASSERT_TRUE(enqueue_job(db, req).has_value());
    }
    std::vector<HostCapacity> hosts{{"h1", 2, true}, {"h2", 2, true}};
    ClaimRequest req{"w", 5000, 1000, hosts, 16};
    auto first = claim_batch(db, req);
    ASSERT_TRUE(first.has_value()) << first.error().message;
    ASSERT_EQ(first->size(), 3u);  // 12 claimable over 4 free slots
    std::set<std::string> batch_ids;
    for (std::size_t i = 0; i < first->size(); ++i) {
        const auto& j = (*first)[i];
        EXPECT_EQ(j.batch_key, "A");
        EXPECT_EQ(j.batch_index, static_cast<int>(i));
        EXPECT_EQ(j.gpu_ids, (*first)[0].gpu_ids);
        EXPECT_EQ(j.host, (*first)[0].host);
        batch_ids.insert(j.batch_id.value_or(""));
    }
    ASSERT_EQ(batch_ids.size(), 1u);
    EXPECT_EQ(batch_ids.begin()->rfind("bat_", 0), 0u);
    // The other slots get the rest; a batch never holds two keys.
    std::size_t claimed = first->size();
    for (int round = 0; round < 3; ++round) {
        auto next = claim_batch(db, req);
        ASSERT_TRUE(next.has_value());
        ASSERT_FALSE(next->empty());
        for (const auto& j : *next) {
            EXPECT_EQ(j.batch_key, next->front().batch_key);
            EXPECT_EQ(j.batch_id, next->front().batch_id);
        }
        claimed += next->size();
    }
    EXPECT_TRUE(claim_batch(db, req)->empty());  // every GPU holds a batch
    // The plan over both groups (placement.hpp: batch_size) cut A into 3 + 3 + 2 and B into 3,
    // leaving one B job for the first slot to free up: that ends sooner than a fourth B run on
    // the last slot. No batch mixes keys.
    EXPECT_EQ(claimed, 11u);
    // A host that cannot run batch files gets single jobs.
    auto run = new_run();
    EnqueueRequest one{run};
    one.batch_key = "A";
    ASSERT_TRUE(enqueue_job(db, one).has_value());
    auto extra = new_run();
    EnqueueRequest two{extra};
    two.batch_key = "A";
    ASSERT_TRUE(enqueue_job(db, two).has_value());
    auto single = claim_batch(db, ClaimRequest{"w", 5000, 1000, {{"h3", 1, false}}, 16});
    ASSERT_TRUE(single && single->size() == 1);
    EXPECT_FALSE(single->front().batch_id.has_value());
}

// A compatible job goes to the host where its key ran last, although another host has more
// free GPUs.
TEST_F(QueueStoreTest, PrefersTheHostWhereACompatibleLoadRan) {
    std::vector<HostCapacity> hosts{{"h1", 4, true}, {"h2", 2, true}};
    EnqueueRequest a{new_run()};
    a.batch_key = "K";
    ASSERT_TRUE(enqueue_job(db, a).has_value());
    auto pinned = enqueue_job(db, [&] {
        EnqueueRequest r{new_run()};
        r.batch_key = "K";
        r.want_host = "h2";
        return r;
    }());
    ASSERT_TRUE(pinned.has_value());
    // The pinned one first (claim order is queue order, so take the first and finish it).
    auto first = claim_batch(db, ClaimRequest{"w", 5000, 1000, {{"h2", 2, true}}, 1});
    ASSERT_TRUE(first && first->size() == 1);
    ASSERT_TRUE(complete_job(db, first->front().id, "w", JobState::done).has_value());
    EnqueueRequest b{new_run()};
    b.batch_key = "K";
    ASSERT_TRUE(enqueue_job(db, b).has_value());
    auto next = claim_batch(db, ClaimRequest{"w", 5000, 1000, hosts, 1});
    ASSERT_TRUE(next && next->size() == 1);
    EXPECT_EQ(next->front().host, "h2");
    // Without a key the host with the most free GPUs wins.
    ASSERT_TRUE(enqueue_job(db, EnqueueRequest{new_run()}).has_value());
    auto plain = claim_batch(db, ClaimRequest{"w", 5000, 1000, hosts, 1});
    ASSERT_TRUE(plain.has_value());
    for (const auto& j : *plain) {
        if (!j.batch_key) {
            EXPECT_EQ(j.host, "h1");
        }
    }
}

// The jobs of a batch are taken over together; released GPUs are free for the next claim while
// the batch still collects.
TEST_F(QueueStoreTest, BatchesAreTakenOverTogetherAndReleaseGpusEarly) {
    for (int i = 0; i < 3; ++i) {
        EnqueueRequest req{new_run()};
        req.batch_key = "A";
        ASSERT_TRUE(enqueue_job(db, req).has_value());
    }
    std::vector<HostCapacity> hosts{{"h1", 1, true}};
    auto batch = claim_batch(db, ClaimRequest{"w1", 5000, 1000, hosts, 8});
    ASSERT_TRUE(batch && batch->size() == 3);
    auto taken = claim_expired_jobs(db, "w2", 5000, 9000);
    ASSERT_TRUE(taken.has_value());
    ASSERT_EQ(taken->size(), 3u);
    for (const auto& j : *taken) {
        EXPECT_EQ(j.lease_owner, "w2");
        EXPECT_EQ(j.batch_id, batch->front().batch_id);
    }
    EnqueueRequest later{new_run()};
    ASSERT_TRUE(enqueue_job(db, later).has_value());
    EXPECT_TRUE(claim_batch(db, ClaimRequest{"w2", 5000, 9000, hosts, 8})->empty());
    std::vector<std::string> ids;
    for (const auto& j : *taken) {
        ids.push_back(j.id);
    }
    ASSERT_TRUE(release_gpus(db, ids, "w1").has_value());  // not the holder: no effect
    EXPECT_TRUE(claim_batch(db, ClaimRequest{"w2", 5000, 9000, hosts, 8})->empty());
    ASSERT_TRUE(release_gpus(db, ids, "w2").has_value());
    auto next = claim_batch(db, ClaimRequest{"w2", 5000, 9000, hosts, 8});
    ASSERT_TRUE(next && next->size() == 1);
    EXPECT_EQ(next->front().gpu_ids, std::vector<int>{0});
}

}  // namespace
