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

// The smallest string greater than every string starting with `prefix` (its last byte below
// 0xff incremented, the bytes after it dropped); empty when there is none (all 0xff or empty).
std::string prefix_upper_bound(std::string_view prefix);

}  // namespace cosmos::store
