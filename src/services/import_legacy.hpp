#pragma once
// `cosmos import PATH...`: prompts and runs of the Python tool this project replaces, from its
// prompt-spec / run-spec JSON files (alone or in dated folders) and from its later versions'
// SQLite database (docs/import.md).

#include <filesystem>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"

namespace cosmos::services {

struct ImportDefaults {
    std::string negative_prompt;  // used when a prompt has none
};

struct ImportItem {
    std::string source;  // the file (or database) the item came from
    std::string id;      // the kept id; empty when the file could not be read as an item
    std::string kind;    // "prompt", "run", or "file" when the file is not a readable item
    std::string action;  // "imported" or "skipped"
    std::string reason;  // why skipped; for imported items, what was changed (may be empty)
};

struct ImportReport {
    std::vector<ImportItem> items;  // problems found while reading, then prompts, then runs
    int imported_prompts = 0;
    int imported_runs = 0;
    int skipped = 0;
};

// Imports every path of `paths` into `db`: a prompt-spec or run-spec JSON file, a folder searched
// recursively for *.json, or a SQLite database of the Python tool (detected by its header).
// All prompts are imported before any run, so a run may refer to a prompt from another path.
// Ids are kept; an id already in `db` is skipped as "already imported", so importing again adds
// nothing. A bad file or row never stops the import: it is reported as skipped with the reason.
// Each item is written in its own transaction. Fails with not_found, before importing anything,
// when a path does not exist, and with io when `db` itself fails to read or write (what was
// written before stays; importing again finishes the job).
core::Result<ImportReport> import_legacy(const store::Database& db,
                                         const std::vector<std::filesystem::path>& paths,
                                         const ImportDefaults& defaults);

}  // namespace cosmos::services
