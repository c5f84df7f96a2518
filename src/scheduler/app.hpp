#pragma once
// What every operation, and the engine under them, needs: the loaded configuration and the
// open store (services::open_app makes one).

#include <filesystem>
#include <string>

#include "config/config.hpp"
#include "store/database.hpp"

namespace cosmos::scheduler {

struct App {
    config::Config config;
    store::Database db;

    std::filesystem::path data_dir() const { return config.paths.data_dir; }
    // Where a run's spec, log and outputs live: <data_dir>/runs/<run_id>.
    std::filesystem::path run_dir(const std::string& run_id) const {
        return data_dir() / "runs" / run_id;
    }
};

}  // namespace cosmos::scheduler
