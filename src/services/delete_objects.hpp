#pragma once
// `cosmos delete`: prompts (with their runs) and runs, and the runs' directories in the data
// dir. Files outside <data_dir>/runs are never touched, whatever paths a record holds.

#include <filesystem>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/result.hpp"
#include "services/app.hpp"

namespace cosmos::services {

struct DeletePlan {
    std::vector<std::string> prompts;
    std::vector<std::string> runs;                // the named runs plus the runs of named prompts
    std::vector<std::filesystem::path> run_dirs;  // existing run directories to remove
    bool keep_outputs = false;  // apply_delete leaves run_dirs in place (`--keep-outputs`)
    std::unordered_set<std::string> planned;  // prompts and runs already in the plan
};

// Checks every id (not_found for an unknown one, invalid_input for a malformed one, conflict
// for a running run) and returns what would be deleted. Writes nothing.
core::Result<DeletePlan> plan_delete(const App& app, const std::vector<std::string>& ids);

// The plan of `cosmos delete --all`: every prompt with its runs (checked as plan_delete checks:
// a running run refuses it all).
core::Result<DeletePlan> plan_delete_all(const App& app);

// Deletes the plan's rows in one transaction, then its run directories (unless keep_outputs).
core::Status apply_delete(const App& app, const DeletePlan& plan);

}  // namespace cosmos::services
