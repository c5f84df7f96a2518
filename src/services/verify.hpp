#pragma once
// `cosmos verify [--repair]`: the database against the files on disk (docs/verify.md).
//
// Looks for: runs whose recorded output video, log or output folder is gone (a succeeded run
// without its output video is an error, the rest warnings), folders under <data_dir>/runs/ that
// no run of the database owns (orphans: an error), prompts whose input files are gone (warnings),
// and damage to the database itself (PRAGMA integrity_check and foreign_key_check: errors).
// Runs still pending, queued or running are left alone (their files are still coming), and so
// are relative paths (only imported runs and prompts have them: they name the old tool's folder).
//
// --repair does only what loses nothing: an orphan folder is moved (never deleted) into
// <data_dir>/orphans/<UTC time>/, and a run's paths that name nothing are cleared with an event
// that records them. Imported records and prompts' inputs are never changed, and nothing is
// written when the database itself is damaged.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "services/app.hpp"

namespace cosmos::services {

enum class Severity { error, warning };
std::string_view severity_name(Severity s);

struct VerifyFinding {
    // database_integrity, foreign_key, missing_output_video, missing_log, missing_output_dir,
    // orphan_run_folder, missing_input
    std::string kind;
    Severity severity = Severity::warning;
    std::string subject;  // a run or prompt id, a folder's name, or "database"
    std::string path;     // the file or folder concerned (empty for the database's own checks)
    std::string detail;   // what was seen, in words
    std::string repair;   // with --repair: what was done, or why nothing was
    bool repaired = false;
};

struct VerifyOptions {
    bool repair = false;
};

struct VerifyReport {
    std::string database;  // the database file
    std::vector<VerifyFinding> findings;
    std::int64_t runs = 0;                   // runs checked (finished ones)
    std::int64_t prompts = 0;                // prompts checked
    std::int64_t run_folders = 0;            // folders under <data_dir>/runs/
    std::int64_t not_checked = 0;            // relative paths (imported records), not checked
    std::optional<std::string> orphans_dir;  // where --repair moved orphan folders
    bool repair = false;

    // No error is left: none found, or each one repaired.
    bool ok() const;
    std::size_t count(Severity s, bool unrepaired_only) const;
};

// Runs every check and, with options.repair, the safe repairs. Fails only when the store cannot
// be read at all; each problem found is a finding.
core::Result<VerifyReport> verify_store(const App& app, const VerifyOptions& options);

// {"ok", "repair", "database", "checked": {"runs", "prompts", "run_folders", "not_checked"},
//  "errors", "warnings", "orphans_dir", "findings": [{"kind", "severity", "subject", "path",
//  "detail", "repair", "repaired"}]}
nlohmann::ordered_json verify_json(const VerifyReport& report);

}  // namespace cosmos::services
