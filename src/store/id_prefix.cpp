#include "store/id_prefix.hpp"

#include <fmt/format.h>

namespace cosmos::store {

core::Result<std::string> resolve_run_id(const Database& db, std::string_view text) {
    std::string prefix(text);
    if (!prefix.starts_with("rs_")) {
        prefix = "rs_" + prefix;
    }
    // At most this many candidates are named when the prefix is ambiguous.
    constexpr int k_named = 5;
    COSMOS_TRY(auto ids, ids_with_prefix(db, IdTable::runs, prefix, k_named + 1));
    if (ids.empty()) {
        return core::fail(core::ErrorCode::not_found, fmt::format("no run {}", text));
    }
    if (ids.size() == 1 || ids.front() == prefix) {
        return ids.front();  // ids come in order: an exact id sorts before its extensions
    }
    std::string named;
    for (std::size_t i = 0; i < ids.size() && i < static_cast<std::size_t>(k_named); ++i) {
        named += fmt::format("{}{}", i == 0 ? "" : ", ", ids[i]);
    }
    return core::fail(core::ErrorCode::invalid_input,
                      fmt::format("run id prefix '{}' is ambiguous: {}{}",
                                  text,
                                  named,
                                  ids.size() > static_cast<std::size_t>(k_named) ? ", ..." : ""),
                      "give more characters of the id");
}

std::string prefix_upper_bound(std::string_view prefix) {
    std::string upper(prefix);
    while (!upper.empty()) {
        auto last = static_cast<unsigned char>(upper.back());
        if (last < 0xff) {
            upper.back() = static_cast<char>(last + 1);
            return upper;
        }
        upper.pop_back();
    }
    return upper;
}

core::Result<std::vector<std::string>> ids_with_prefix(const Database& db,
                                                       IdTable table,
                                                       std::string_view prefix,
                                                       int limit) {
    // The table name is one of two constants; the prefix is bound.
    const char* sql_bounded = table == IdTable::runs
                                  ? "SELECT id FROM runs WHERE id >= ?1 AND id < ?2 "
                                    "ORDER BY id LIMIT ?3"
                                  : "SELECT id FROM prompts WHERE id >= ?1 AND id < ?2 "
                                    "ORDER BY id LIMIT ?3";
    const char* sql_open = table == IdTable::runs
                               ? "SELECT id FROM runs WHERE id >= ?1 ORDER BY id LIMIT ?3"
                               : "SELECT id FROM prompts WHERE id >= ?1 ORDER BY id LIMIT ?3";
    std::string upper = prefix_upper_bound(prefix);
    COSMOS_TRY(auto st, db.prepare(upper.empty() ? sql_open : sql_bounded));
    st.bind(1, prefix).bind(3, limit);
    if (!upper.empty()) {
        st.bind(2, upper);
    }
    std::vector<std::string> out;
    for (;;) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            return out;
        }
        out.push_back(st.text(0));
    }
}

}  // namespace cosmos::store
