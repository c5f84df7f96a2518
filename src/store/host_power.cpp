#include "store/host_power.hpp"

#include "core/clock.hpp"

namespace cosmos::store {

core::Status mark_host_stopped(const Database& db,
                               const std::string& host,
                               const std::string& detail) {
    COSMOS_TRY(auto st,
               db.prepare("INSERT INTO host_power (host, stopped_at, detail) VALUES (?,?,?) "
                          "ON CONFLICT(host) DO UPDATE SET stopped_at = excluded.stopped_at, "
                          "detail = excluded.detail"));
    st.bind(1, host).bind(2, core::now_iso()).bind(3, detail);
    return st.run();
}

core::Status mark_host_started(const Database& db, const std::string& host) {
    COSMOS_TRY(auto st, db.prepare("DELETE FROM host_power WHERE host = ?"));
    st.bind(1, host);
    return st.run();
}

core::Result<std::map<std::string, std::string>> stopped_hosts(const Database& db) {
    COSMOS_TRY(auto st, db.prepare("SELECT host, stopped_at FROM host_power"));
    std::map<std::string, std::string> out;
    for (;;) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            return out;
        }
        out[st.text(0)] = st.text(1);
    }
}

core::Result<std::int64_t> waiting_jobs(const Database& db) {
    COSMOS_TRY(auto st,
               db.prepare("SELECT count(*) FROM jobs WHERE state = 'queued' AND paused = 0 AND "
                          "NOT EXISTS (SELECT 1 FROM queue_state WHERE key = 'paused' AND "
                          "value = '1')"));
    COSMOS_TRY(bool row, st.step());
    return row ? st.int64(0) : 0;
}

}  // namespace cosmos::store
