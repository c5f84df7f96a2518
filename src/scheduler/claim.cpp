#include "scheduler/claim.hpp"

namespace cosmos::scheduler {

core::Result<std::vector<store::JobRecord>> claim_batch(const store::Database& db,
                                                        const ClaimRequest& req) {
    std::vector<store::JobRecord> claimed;
    auto s = db.transaction([&]() -> core::Status {
        COSMOS_TRY(bool paused, store::queue_paused(db));
        if (paused) {
            return {};
        }
        COSMOS_CHECK(store::cancel_broken_dependencies(db));
        COSMOS_TRY(auto view, store::queue_snapshot(db, req.now_ms));
        auto plan = plan_claim(view, req.hosts, req.max_batch);
        if (!plan) {
            return {};
        }
        store::ClaimWrite write{std::move(plan->host),
                                std::move(plan->gpu_ids),
                                std::move(plan->job_ids),
                                req.owner,
                                req.lease_ms,
                                req.now_ms};
        COSMOS_TRY(claimed, store::write_claim(db, write));
        return {};
    });
    if (!s) {
        return core::fail(std::move(s).error());
    }
    return claimed;
}

core::Result<std::optional<store::JobRecord>> claim_job(const store::Database& db,
                                                        const ClaimRequest& req) {
    ClaimRequest one = req;
    one.max_batch = 1;
    COSMOS_TRY(auto jobs, claim_batch(db, one));
    if (jobs.empty()) {
        return std::optional<store::JobRecord>{};
    }
    return std::optional<store::JobRecord>{jobs.front()};
}

}  // namespace cosmos::scheduler
