#include "services/import_legacy.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "services/legacy_database.hpp"
#include "services/legacy_mapping.hpp"
#include "services/legacy_spec.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

namespace {

constexpr std::string_view k_already = "already imported";

bool has_json_extension(const fs::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return ext == ".json";
}

// Returns the files to read for `root`: itself, or every *.json below it when it is a folder
// (dated folders such as inputs/prompts/2025-01-31/ included), sorted.
std::vector<fs::path> files_of(const fs::path& root, legacy::Batch& batch) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        return {root};
    }
    std::vector<fs::path> files;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::error_code file_ec;
        // Not only regular files: one that is not (a FIFO, say) is reported, not passed over.
        if (has_json_extension(it->path()) && !it->is_directory(file_ec)) {
            files.push_back(it->path());
        }
    }
    if (ec) {
        batch.skip(root.string(),
                   "",
                   "file",
                   fmt::format("cannot list everything in {}: {}", root.string(), ec.message()));
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::string join_notes(const std::vector<std::string>& notes) {
    std::string out;
    for (const auto& n : notes) {
        out += out.empty() ? n : "; " + n;
    }
    return out;
}

ImportItem item_for(const std::string& source, const std::string& id, std::string_view kind) {
    return ImportItem{source, id, std::string(kind), "skipped", ""};
}

// Writes one prompt (a single INSERT, so atomic); fails only when the store itself fails.
core::Result<ImportItem> import_prompt(const store::Database& db,
                                       const legacy::Candidate<store::PromptRecord>& c) {
    ImportItem item = item_for(c.source, c.record.id, "prompt");
    COSMOS_TRY(auto existing, store::get_prompt(db, c.record.id));
    if (existing) {
        item.reason = k_already;
        return item;
    }
    legacy::Candidate<store::PromptRecord> kept = c;
    if (kept.record.parent_id) {
        COSMOS_TRY(auto parent, store::get_prompt(db, *kept.record.parent_id));
        if (!parent) {
            kept.notes.push_back(fmt::format(
                "its parent prompt {} is in neither the store nor this import: the link is left "
                "out",
                *kept.record.parent_id));
            kept.record.parent_id.reset();
        }
    }
    if (auto s = store::insert_prompt(db, kept.record); !s) {
        if (s.error().code != ErrorCode::conflict) {
            return fail(s.error());
        }
        item.reason = k_already;  // written meanwhile by another process
        return item;
    }
    item.action = "imported";
    item.reason = join_notes(kept.notes);
    return item;
}

// Writes one run with its first event (one transaction); fails only when the store fails.
core::Result<ImportItem> import_run(const store::Database& db,
                                    const legacy::Candidate<store::RunRecord>& c,
                                    const std::set<std::string>& skipped_prompts) {
    ImportItem item = item_for(c.source, c.record.id, "run");
    COSMOS_TRY(auto existing, store::get_run(db, c.record.id));
    if (existing) {
        item.reason = k_already;
        return item;
    }
    COSMOS_TRY(auto prompt, store::get_prompt(db, c.record.prompt_id));
    if (!prompt) {
        item.reason = skipped_prompts.count(c.record.prompt_id) != 0
                          ? fmt::format("its prompt {} was skipped", c.record.prompt_id)
                          : fmt::format(
                                "its prompt {} is unknown: neither in the database nor "
                                "in this import",
                                c.record.prompt_id);
        return item;
    }
    legacy::Candidate<store::RunRecord> kept = c;
    if (kept.record.parent_run_id) {
        COSMOS_TRY(auto parent, store::get_run(db, *kept.record.parent_run_id));
        if (!parent) {
            kept.notes.push_back(fmt::format(
                "its parent run {} is in neither the store nor this import: the link is left out",
                *kept.record.parent_run_id));
            kept.record.parent_run_id.reset();
        }
    }
    if (auto s = store::insert_run(db, kept.record); !s) {
        if (s.error().code != ErrorCode::conflict) {
            return fail(s.error());
        }
        item.reason = k_already;
        return item;
    }
    item.action = "imported";
    item.reason = join_notes(kept.notes);
    return item;
}

// Returns `items` reordered so that an item whose parent is in `items` comes after it (the
// store's parent links must name a row already written); otherwise in their order.
template <class Record, class Parent>
std::vector<const legacy::Candidate<Record>*> parents_first(
    const std::vector<legacy::Candidate<Record>>& items, Parent parent_of) {
    std::set<std::string> pending;
    for (const auto& c : items) {
        pending.insert(c.record.id);
    }
    std::vector<const legacy::Candidate<Record>*> out;
    while (out.size() < items.size()) {
        std::size_t before = out.size();
        for (const auto& c : items) {
            const auto& parent = parent_of(c.record);
            bool waits = parent && *parent != c.record.id && pending.count(*parent) != 0;
            if (pending.count(c.record.id) != 0 && !waits) {
                out.push_back(&c);
            }
        }
        for (std::size_t i = before; i < out.size(); ++i) {
            pending.erase(out[i]->record.id);
        }
        if (out.size() == before) {  // a cycle: the rest in their order
            for (const auto& c : items) {
                if (pending.count(c.record.id) != 0) {
                    out.push_back(&c);
                }
            }
        }
    }
    return out;
}

core::Status write_batch(const store::Database& db,
                         const legacy::Batch& batch,
                         ImportReport& report) {
    std::set<std::string> skipped_prompts;
    for (const auto& item : report.items) {
        if (item.kind == "prompt") {
            skipped_prompts.insert(item.id);
        }
    }
    auto prompt_parent = [](const store::PromptRecord& p) -> const auto& {
        return p.parent_id;
    };
    for (const auto* c : parents_first(batch.prompts, prompt_parent)) {
        COSMOS_TRY(auto item, import_prompt(db, *c));
        if (item.action == "imported") {
            ++report.imported_prompts;
        } else if (item.reason != k_already) {
            skipped_prompts.insert(item.id);
        }
        report.items.push_back(std::move(item));
    }
    auto run_parent = [](const store::RunRecord& r) -> const auto& {
        return r.parent_run_id;
    };
    for (const auto* c : parents_first(batch.runs, run_parent)) {
        COSMOS_TRY(auto item, import_run(db, *c, skipped_prompts));
        if (item.action == "imported") {
            ++report.imported_runs;
        }
        report.items.push_back(std::move(item));
    }
    return {};
}

}  // namespace

core::Result<ImportReport> import_legacy(const store::Database& db,
                                         const std::vector<fs::path>& paths,
                                         const ImportDefaults& defaults) {
    std::vector<fs::path> roots;
    for (const auto& p : paths) {
        std::error_code ec;
        if (!fs::exists(p, ec)) {
            return fail(ErrorCode::not_found,
                        fmt::format("no such file or folder: {}", p.string()),
                        "give prompt or run spec files, folders of them, or the Python tool's "
                        "database");
        }
        roots.push_back(fs::absolute(p, ec).lexically_normal());
    }
    legacy::Batch batch;
    std::set<fs::path> seen;
    for (const auto& root : roots) {
        for (const auto& file : files_of(root, batch)) {
            if (!seen.insert(file).second) {
                continue;  // named twice (a file and its folder, say)
            }
            if (legacy::is_sqlite_file(file)) {
                legacy::read_legacy_database(file, defaults, batch);
            } else {
                legacy::read_spec_file(file, defaults, batch);
            }
        }
    }
    ImportReport report;
    report.items = std::move(batch.skipped);
    if (auto s = write_batch(db, batch, report); !s) {
        return fail(ErrorCode::io,
                    fmt::format("import stopped: {}", s.error().message),
                    "what was written before is kept; run the import again to finish it");
    }
    report.skipped = static_cast<int>(
        std::count_if(report.items.begin(), report.items.end(), [](const ImportItem& i) {
            return i.action == "skipped";
        }));
    return report;
}

}  // namespace cosmos::services
