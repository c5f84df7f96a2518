// The claim policy as pure functions: order and backfill, warm placement, dependency chaining,
// slots, fair-share batch sizes.

#include "scheduler/placement.hpp"

#include <gtest/gtest.h>

namespace cosmos::scheduler {
namespace {

store::JobRecord job(const std::string& id, int gpus = 1, std::optional<std::string> key = {}) {
    store::JobRecord j;
    j.id = id;
    j.run_id = "rs_" + id;
    j.gpus = gpus;
    j.batch_key = std::move(key);
    return j;
}

HostCapacity host(const std::string& name, int gpus, bool batches = true) {
    HostCapacity h;
    h.name = name;
    h.gpus = gpus;
    h.batches = batches;
    return h;
}

TEST(Placement, FirstCandidateThatFitsIsClaimedOnTheLowestFreeSlots) {
    QueueSnapshot view;
    view.candidates = {job("a", 2), job("b", 1)};
    view.used["gpu0"] = {0, 2};
    auto plan = plan_claim(view, {host("gpu0", 4)}, 1);
    ASSERT_TRUE(plan);
    // "a" needs 2 of the 2 free slots (1 and 3).
    EXPECT_EQ(plan->job_ids, std::vector<std::string>{"a"});
    EXPECT_EQ(plan->gpu_ids, (std::vector<int>{1, 3}));
}

TEST(Placement, ABigJobThatDoesNotFitLetsASmallerOneBehindItRun) {
    QueueSnapshot view;
    view.candidates = {job("big", 4), job("small", 1)};
    view.used["gpu0"] = {0};
    auto plan = plan_claim(view, {host("gpu0", 4)}, 1);
    ASSERT_TRUE(plan);
    EXPECT_EQ(plan->job_ids.front(), "small");
    EXPECT_FALSE(plan_claim(QueueSnapshot{{job("huge", 8)}, {}, {}, {}, 0}, {host("g", 4)}, 1));
}

TEST(Placement, WarmHostBeatsMoreFreeGpus) {
    auto j = job("a", 1, "key1");
    std::map<std::string, std::set<int>> used{{"warm", {0, 1, 2}}};
    std::map<std::string, std::int64_t> warm{{"warm", 2}};
    std::vector<HostCapacity> hosts{host("cold", 4), host("warm", 4)};
    EXPECT_EQ(place(j, hosts, used, warm)->name, "warm");
    EXPECT_EQ(place(j, hosts, used, {})->name, "cold");  // no history: most free
    used["warm"].insert(3);
    EXPECT_EQ(place(j, hosts, used, warm)->name, "cold");  // warm but full
    j.want_host = "warm";
    EXPECT_EQ(place(j, hosts, used, warm), nullptr);  // only there, and full
}

TEST(Placement, SlotsAreJobsOnASlurmPartition) {
    auto cluster = host("cluster", 2);
    cluster.slots_are_jobs = true;
    EXPECT_EQ(slots_of(cluster, job("a", 8)), 1);
    EXPECT_EQ(slots_of(host("gpu", 8), job("a", 8)), 8);
}

TEST(Placement, ServedRunsGoOnlyToHostsThatServeAndNeverShareALoad) {
    auto server = host("c3", 2, false);
    server.serves = true;
    server.slots_are_jobs = true;
    std::vector<HostCapacity> hosts{host("gpu", 8), server};
    auto served = job("s", 1, served_key(model::Family::cosmos3));
    EXPECT_TRUE(is_served_key(served.batch_key));
    EXPECT_FALSE(is_served_key(std::string("tb1:0123")));
    EXPECT_EQ(place(served, hosts, {}, {})->name, "c3");
    EXPECT_EQ(place(job("t", 1, "tb1:0123"), hosts, {}, {})->name, "gpu");
    served.want_host = "gpu";
    EXPECT_EQ(place(served, hosts, {}, {}), nullptr);
    // Two requests in flight fill the server's max_concurrent of 2.
    EXPECT_EQ(place(job("s2", 1, served_key(model::Family::cosmos3)), hosts, {{"c3", {0, 1}}}, {}),
              nullptr);
    QueueSnapshot view;
    view.candidates = {job("a", 1, served_key(model::Family::cosmos3)),
                       job("b", 1, served_key(model::Family::cosmos3))};
    auto plan = plan_claim(view, {server}, 16);
    ASSERT_TRUE(plan);
    EXPECT_EQ(plan->job_ids, std::vector<std::string>{"a"});  // one request per claim
}

TEST(Placement, DependenciesChainOnlyOntoAHostThatChains) {
    auto cluster = host("cluster", 8);
    cluster.chains = true;
    std::vector<HostCapacity> hosts{host("ssh", 4), cluster};
    EXPECT_EQ(chain_host(DependencyState{true, std::nullopt}, hosts), std::string());
    EXPECT_EQ(chain_host(DependencyState{false, "cluster"}, hosts), "cluster");
    EXPECT_FALSE(chain_host(DependencyState{false, "ssh"}, hosts));
    EXPECT_FALSE(chain_host(DependencyState{false, std::nullopt}, hosts));

    QueueSnapshot view;
    auto up = job("up");
    up.depends_on = "rs_parent";
    view.candidates = {up};
    view.dependencies["rs_parent"] = DependencyState{false, "cluster"};
    auto plan = plan_claim(view, hosts, 1);
    ASSERT_TRUE(plan);
    EXPECT_EQ(plan->host, "cluster");
    view.dependencies["rs_parent"] = DependencyState{false, "ssh"};
    EXPECT_FALSE(plan_claim(view, hosts, 1));  // waits for its parent
}

BatchDemand demand(std::vector<int> groups, std::vector<double> slots, int max_batch = 8) {
    BatchDemand d;
    d.groups = std::move(groups);
    d.slots = std::move(slots);
    d.max_batch = max_batch;
    return d;
}

TEST(Placement, BatchSizeComesFromAPlanOverEveryGroup) {
    // One group of 16 over 4 free slots: 4 each.
    EXPECT_EQ(batch_size(demand({16}, {0, 0, 0, 0})), 4);
    // Work in flight counts: 12 ready + 4 running on one slot, over 4 slots.
    EXPECT_EQ(batch_size(demand({12}, {4, 0, 0, 0})), 4);
    // Capped by max_batch, at least 1.
    EXPECT_EQ(batch_size(demand({100}, {0, 0})), 8);
    EXPECT_EQ(batch_size(demand({1}, {0, 0, 0, 0, 0, 0, 0, 0})), 1);
    // Three groups of 8 on 4 GPUs: whole groups would leave the fourth GPU idle (the plan ends
    // after 8 runs and a load); a share of 6 lets it take the remainders.
    EXPECT_EQ(batch_size(demand({8, 8, 8}, {0, 0, 0, 0})), 6);
    // 9 runs on 2 slots: a share of 4; the one run of this group left over joins (5), one load
    // fewer and the plan ends no later...
    EXPECT_EQ(batch_size(demand({5, 4}, {0, 0})), 5);
    // ...but not when it would end later, nor past max_batch.
    EXPECT_EQ(batch_size(demand({7, 2}, {0, 0})), 4);
    EXPECT_EQ(batch_size(demand({5, 4}, {0, 0}, 4)), 4);
    // GPUs busy for long: the whole group now, on the one free slot.
    EXPECT_EQ(batch_size(demand({6}, {20, 20, 0})), 6);
}

TEST(Placement, CompatibleJobsJoinWithinTheShare) {
    QueueSnapshot view;
    for (int i = 0; i < 8; ++i) {
        view.candidates.push_back(job("j" + std::to_string(i), 1, "k"));
    }
    view.candidates.push_back(job("other", 1, "k2"));
    auto plan = plan_claim(view, {host("a", 2), host("b", 2)}, 8);
    ASSERT_TRUE(plan);
    // 9 ready runs over 4 slots: a share of 2; the other key never joins.
    EXPECT_EQ(plan->job_ids, (std::vector<std::string>{"j0", "j1"}));
    // A host that cannot batch takes one.
    auto single = plan_claim(view, {host("a", 2, false)}, 8);
    ASSERT_TRUE(single);
    EXPECT_EQ(single->job_ids.size(), 1u);
}

}  // namespace
}  // namespace cosmos::scheduler
