// The queue listing shared by the CLI and the web API (queue_view.hpp).

#include "services/queue_view.hpp"

#include "services/queue.hpp"
#include "services/queue_eta.hpp"
#include "store/queue_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

core::Result<nlohmann::ordered_json> queue_json(const App& app, int finished) {
    COSMOS_TRY(auto jobs, store::list_jobs(app.db, finished));
    COSMOS_TRY(bool paused, store::queue_paused(app.db));
    std::map<std::string, store::RunRecord> runs;
    for (const auto& job : jobs) {
        COSMOS_TRY(auto run, store::get_run(app.db, job.run_id));
        if (run) {
            runs.emplace(job.run_id, std::move(*run));
        }
    }
    COSMOS_TRY(auto etas, queue_etas(app, jobs, runs));
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    int position = 0;
    for (const auto& job : jobs) {
        auto found = runs.find(job.run_id);
        std::optional<store::RunRecord> run;
        if (found != runs.end()) {
            run = found->second;
        }
        std::optional<int> pos;
        if (job.state == store::JobState::queued) {
            pos = ++position;
        }
        auto j = job_json(job, run, pos);
        add_eta(j, etas);
        arr.push_back(std::move(j));
    }
    return nlohmann::ordered_json{{"paused", paused}, {"jobs", arr}};
}

}  // namespace cosmos::services
