#pragma once
// What every operation needs: the loaded configuration and the open store.

#include <filesystem>

#include "config/config.hpp"
#include "core/result.hpp"
#include "store/database.hpp"

namespace cosmos::services {

struct App {
    config::Config config;
    store::Database db;

    std::filesystem::path data_dir() const { return config.paths.data_dir; }
    // Where a run's spec, log and outputs live: <data_dir>/runs/<run_id>.
    std::filesystem::path run_dir(const std::string& run_id) const;
};

// Loads the configuration and opens <data_dir>/cosmos.db (creating and migrating it).
core::Result<App> open_app(const config::LoadOptions& options);

// Returns the database path for `config`.
std::filesystem::path database_path(const config::Config& config);

}  // namespace cosmos::services
