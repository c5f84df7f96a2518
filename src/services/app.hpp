#pragma once
// Opening what every operation needs: the configuration and the store (scheduler::App).

#include <filesystem>

#include "config/config.hpp"
#include "core/result.hpp"
#include "scheduler/app.hpp"

namespace cosmos::services {

using App = scheduler::App;

// Loads the configuration and opens <data_dir>/cosmos.db (creating and migrating it).
core::Result<App> open_app(const config::LoadOptions& options);

// Returns the database path for `config`.
std::filesystem::path database_path(const config::Config& config);

}  // namespace cosmos::services
