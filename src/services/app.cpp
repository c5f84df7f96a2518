#include "services/app.hpp"

#include "transport/staging.hpp"

namespace cosmos::services {

std::filesystem::path database_path(const config::Config& config) {
    return config.paths.data_dir / "cosmos.db";
}

core::Result<App> open_app(const config::LoadOptions& options) {
    COSMOS_TRY(auto config, config::load_config(options));
    COSMOS_TRY(auto db, store::Database::open(database_path(config)));
    // Staging remembers the hashes of local inputs across processes (transport/staging.hpp).
    transport::set_local_hash_cache(config.paths.data_dir / "staging" / "local-hashes.json");
    return App{std::move(config), std::move(db)};
}

}  // namespace cosmos::services
