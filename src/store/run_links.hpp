#pragma once
// Parent/child links between runs (runs.parent_run_id): the windows of a long video run in
// `parallel` mode are children of the run that stands for the whole video.

#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"
#include "store/records.hpp"

namespace cosmos::store {

// Sets run `child`'s parent to `parent`; fails with not_found when `child` does not exist.
core::Status set_run_parent(const Database& db,
                            const std::string& child,
                            const std::string& parent);

// Returns the ids of `parent`'s children, oldest first.
core::Result<std::vector<std::string>> child_run_ids(const Database& db, const std::string& parent);

}  // namespace cosmos::store
