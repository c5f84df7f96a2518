#include "store/cost_store.hpp"

#include <fmt/format.h>

namespace cosmos::store {

core::Status tag_sweep(const Database& db,
                       const std::string& sweep_id,
                       const std::vector<std::string>& run_ids) {
    return db.transaction([&]() -> core::Status {
        for (const auto& id : run_ids) {
            COSMOS_TRY(auto st, db.prepare("UPDATE runs SET sweep_id = ? WHERE id = ?"));
            st.bind(1, sweep_id).bind(2, id);
            COSMOS_CHECK(st.run());
        }
        return {};
    });
}

core::Result<std::vector<CostRow>> cost_report(const Database& db,
                                               const std::string& since,
                                               CostGrouping by) {
    std::string key;
    switch (by) {
        case CostGrouping::prompt:
            key = "prompt_id";
            break;
        case CostGrouping::host:
            key = "COALESCE(host, '-')";
            break;
        case CostGrouping::model:
            key = "model";
            break;
        case CostGrouping::sweep:
            key = "sweep_id";
            break;
        case CostGrouping::day:
            key = "substr(created_at, 1, 10)";
            break;
    }
    std::string sql = fmt::format(
        "SELECT {0}, COUNT(*), SUM(gpu_seconds), "
        "COALESCE(SUM(gpu_seconds / 3600.0 * gpu_price_per_hour), 0), "
        "SUM(gpu_price_per_hour IS NULL) FROM runs "
        "WHERE gpu_seconds IS NOT NULL AND status IN ('succeeded', 'failed', 'cancelled') "
        "AND created_at >= ? {1} GROUP BY {0} ORDER BY 3 DESC, 1",
        key,
        by == CostGrouping::sweep ? "AND sweep_id IS NOT NULL" : "");
    COSMOS_TRY(auto st, db.prepare(sql));
    st.bind(1, since);
    std::vector<CostRow> rows;
    for (;;) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            return rows;
        }
        rows.push_back(CostRow{st.text(0), st.int64(1), st.real(2), st.real(3), st.int64(4)});
    }
}

core::Result<std::optional<Estimate>> estimate_gpu_seconds(const Database& db,
                                                           const std::string& model,
                                                           int num_gpus,
                                                           int num_steps,
                                                           std::int64_t frames) {
    COSMOS_TRY(auto st,
               db.prepare("SELECT AVG(r.gpu_seconds), COUNT(*) FROM runs r JOIN prompts p ON "
                          "p.id = r.prompt_id WHERE r.status = 'succeeded' AND r.kind = "
                          "'transfer' AND r.gpu_seconds IS NOT NULL AND r.model = ? AND "
                          "json_extract(r.params, '$.num_gpus') = ? AND "
                          "json_extract(r.params, '$.num_steps') = ? AND "
                          "json_extract(p.video, '$.frames') = ?"));
    st.bind(1, model).bind(2, num_gpus).bind(3, num_steps).bind(4, frames);
    COSMOS_TRY(bool row, st.step());
    if (!row || st.int64(1) == 0) {
        return std::optional<Estimate>();
    }
    return std::optional<Estimate>(Estimate{st.real(0), st.int64(1)});
}

}  // namespace cosmos::store
