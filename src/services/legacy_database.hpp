#pragma once
// The SQLite database of the Python tool's later versions (SQLAlchemy tables `prompts` and
// `runs`), read into import candidates (docs/import.md). Opened read-only, never migrated.

#include <filesystem>

#include "services/import_legacy.hpp"
#include "services/legacy_mapping.hpp"

namespace cosmos::services::legacy {

// Returns true when `file` starts with the SQLite header "SQLite format 3\0".
bool is_sqlite_file(const std::filesystem::path& file);

// Reads every row of the `prompts` and `runs` tables of `file` into `batch`. A row that cannot
// be mapped becomes a skipped item with the reason; a database that cannot be opened or lacks
// those tables (our own cosmos.db, say) becomes one skipped "file" item. Records get the source
// "import:<file>".
void read_legacy_database(const std::filesystem::path& file,
                          const ImportDefaults& defaults,
                          Batch& batch);

}  // namespace cosmos::services::legacy
