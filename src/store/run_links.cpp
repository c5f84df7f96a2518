// Parent/child links between runs (see run_links.hpp).

#include "store/run_links.hpp"

#include <fmt/format.h>

namespace cosmos::store {

core::Status set_run_parent(const Database& db,
                            const std::string& child,
                            const std::string& parent) {
    COSMOS_TRY(auto st, db.prepare("UPDATE runs SET parent_run_id = ?1 WHERE id = ?2"));
    if (auto s = st.bind(1, parent).bind(2, child).run(); !s) {
        return s;
    }
    if (db.changes() == 0) {
        return core::fail(core::ErrorCode::not_found, fmt::format("no run {}", child));
    }
    return {};
}

core::Result<std::vector<std::string>> child_run_ids(const Database& db,
                                                     const std::string& parent) {
    COSMOS_TRY(auto st,
               db.prepare("SELECT id FROM runs WHERE parent_run_id = ?1 ORDER BY created_at, id"));
    st.bind(1, parent);
    std::vector<std::string> ids;
    while (true) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            break;
        }
        ids.push_back(st.text(0));
    }
    return ids;
}

}  // namespace cosmos::store
