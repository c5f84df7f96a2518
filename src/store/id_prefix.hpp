#pragma once
// Ids that start with a prefix, for shell completion (`cosmos __complete`): a range scan of the
// primary key (`id >= PREFIX AND id < PREFIX+1`) with a LIMIT, so it answers in a few index
// steps whatever the number of rows.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"

namespace cosmos::store {

enum class IdTable { prompts, runs };

// At most `limit` ids of `table` starting with `prefix`, in id order.
core::Result<std::vector<std::string>> ids_with_prefix(const Database& db,
                                                       IdTable table,
                                                       std::string_view prefix,
                                                       int limit);

// The run id `text` names: the id itself when a run has it, else the one run whose id starts with
// it ("rs_" may be left out: `3fa9` is `rs_3fa9...`). Fails with not_found when no run matches and
// invalid_input naming a few candidates when several do.
core::Result<std::string> resolve_run_id(const Database& db, std::string_view text);

// The smallest string greater than every string starting with `prefix` (its last byte below
// 0xff incremented, the bytes after it dropped); empty when there is none (all 0xff or empty).
std::string prefix_upper_bound(std::string_view prefix);

}  // namespace cosmos::store
