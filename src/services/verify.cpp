// `cosmos verify`: the checks and the safe repairs (verify.hpp, docs/verify.md).

#include "services/verify.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "store/database.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

namespace fs = std::filesystem;
using J = nlohmann::ordered_json;

std::string_view severity_name(Severity s) {
    return s == Severity::error ? "error" : "warning";
}

bool VerifyReport::ok() const {
    return count(Severity::error, true) == 0;
}

std::size_t VerifyReport::count(Severity s, bool unrepaired_only) const {
    return static_cast<std::size_t>(
        std::count_if(findings.begin(), findings.end(), [&](const VerifyFinding& f) {
            return f.severity == s && (!unrepaired_only || !f.repaired);
        }));
}

J verify_json(const VerifyReport& report) {
    J findings = J::array();
    for (const auto& f : report.findings) {
        findings.push_back({{"kind", f.kind},
                            {"severity", severity_name(f.severity)},
                            {"subject", f.subject},
                            {"path", f.path.empty() ? J(nullptr) : J(f.path)},
                            {"detail", f.detail},
                            {"repair", f.repair.empty() ? J(nullptr) : J(f.repair)},
                            {"repaired", f.repaired}});
    }
    return J{{"ok", report.ok()},
             {"repair", report.repair},
             {"database", report.database},
             {"checked",
              {{"runs", report.runs},
               {"prompts", report.prompts},
               {"run_folders", report.run_folders},
               {"not_checked", report.not_checked}}},
             {"errors", report.count(Severity::error, true)},
             {"warnings", report.count(Severity::warning, true)},
             {"orphans_dir", report.orphans_dir ? J(*report.orphans_dir) : J(nullptr)},
             {"findings", findings}};
}

namespace {

bool imported(const std::string& source) {
    return source.starts_with("import:");
}

enum class PathState { present, missing, not_checked };

// Whether `path` names something on disk; relative paths (imported records: the old tool's
// working folder) are not checked. A broken symlink is missing.
PathState state_of(const std::string& path) {
    if (path.empty()) {
        return PathState::present;
    }
    fs::path p(path);
    if (!p.is_absolute()) {
        return PathState::not_checked;
    }
    std::error_code ec;
    return fs::exists(p, ec) ? PathState::present : PathState::missing;
}

// "2026-11-30T08:01:02.345Z" -> "20261130T080102Z": a folder name that sorts by time.
std::string stamp() {
    std::string iso = core::now_iso();
    std::string out;
    for (char c : iso.substr(0, 19)) {
        if (c != '-' && c != ':') {
            out += c;
        }
    }
    return out + "Z";
}

void check_database(const App& app, VerifyReport& report) {
    auto note = [&](const std::string& kind, std::string detail) {
        report.findings.push_back({kind,
                                   Severity::error,
                                   "database",
                                   {},
                                   std::move(detail),
                                   "stop every cosmos process, keep a copy of the file, then "
                                   "restore it from a backup or salvage it (docs/verify.md)",
                                   false});
    };
    auto integrity = store::integrity_problems(app.db, store::IntegrityCheck::full);
    if (!integrity) {
        note("database_integrity", integrity.error().message);
    } else if (!integrity->empty()) {
        note("database_integrity",
             fmt::format("PRAGMA integrity_check: {}", fmt::join(*integrity, "; ")));
    }
    auto keys = store::foreign_key_problems(app.db);
    if (!keys) {
        note("foreign_key", keys.error().message);
    } else if (!keys->empty()) {
        note("foreign_key", fmt::format("PRAGMA foreign_key_check: {}", fmt::join(*keys, "; ")));
    }
}

struct RunCheck {
    store::RunFiles run;
    store::ForgottenFiles gone;
    std::vector<std::size_t> findings;  // indices into the report
};

core::Status check_runs(const App& app, VerifyReport& report, std::vector<RunCheck>& checked) {
    COSMOS_TRY(auto runs, store::all_run_files(app.db));
    for (auto& run : runs) {
        if (!store::is_terminal(run.status)) {
            continue;  // its files are still coming
        }
        ++report.runs;
        RunCheck check{run, {}, {}};
        bool from_import = imported(run.source);
        bool succeeded = run.status == store::RunStatus::succeeded;
        auto look = [&](const std::optional<std::string>& path,
                        const char* kind,
                        const char* what,
                        bool serious,
                        bool& gone) {
            if (!path) {
                return;
            }
            switch (state_of(*path)) {
                case PathState::present:
                    return;
                case PathState::not_checked:
                    ++report.not_checked;
                    return;
                case PathState::missing:
                    break;
            }
            gone = true;
            check.findings.push_back(report.findings.size());
            report.findings.push_back(
                {kind,
                 serious && !from_import ? Severity::error : Severity::warning,
                 run.id,
                 *path,
                 fmt::format(
                     "{} run's {} is gone{}",
                     store::to_string(run.status),
                     what,
                     from_import ? " (an imported run: it names the old tool's files)" : ""),
                 {},
                 false});
        };
        look(run.output_video,
             "missing_output_video",
             "output video",
             succeeded,
             check.gone.output_video);
        look(run.log_path, "missing_log", "log", false, check.gone.log);
        // A failed or cancelled run may never have made its output folder.
        if (succeeded) {
            look(run.output_dir,
                 "missing_output_dir",
                 "output folder",
                 false,
                 check.gone.output_dir);
        }
        if (!check.findings.empty()) {
            checked.push_back(std::move(check));
        }
    }
    return {};
}

core::Status check_prompts(const App& app, VerifyReport& report) {
    COSMOS_TRY(auto total, store::count_prompts(app.db));
    store::PromptQuery q;
    q.limit = static_cast<int>(std::max<std::int64_t>(total, 1));
    COSMOS_TRY(auto prompts, store::list_prompts(app.db, q));
    for (const auto& p : prompts) {
        ++report.prompts;
        auto missing = [&](const std::string& path, const std::string& what) {
            report.findings.push_back(
                {"missing_input",
                 Severity::warning,
                 p.id,
                 path,
                 fmt::format("{} is gone{}",
                             what,
                             imported(p.source) ? " (an imported prompt: it names the old "
                                                  "tool's files)"
                                                : ""),
                 {},
                 false});
        };
        PathState dir = state_of(p.input_dir);
        if (dir == PathState::missing) {
            missing(p.input_dir, "the input folder");
            continue;  // every file in it is gone too: one finding says it
        }
        std::vector<std::pair<std::string, std::string>> files;
        if (p.input_video) {
            files.emplace_back(*p.input_video, "the input video");
        }
        for (const auto& [modality, path] : p.controls) {
            files.emplace_back(path, fmt::format("the {} control video", modality));
        }
        for (const auto& [modality, path] : p.masks) {
            files.emplace_back(path, fmt::format("the {} mask video", modality));
        }
        for (const auto& [path, what] : files) {
            switch (state_of(path)) {
                case PathState::present:
                    break;
                case PathState::not_checked:
                    ++report.not_checked;
                    break;
                case PathState::missing:
                    missing(path, what);
                    break;
            }
        }
    }
    return {};
}

// Folders under <data_dir>/runs/ that no run owns (their indices in the report).
core::Result<std::vector<std::size_t>> check_folders(const App& app, VerifyReport& report) {
    std::vector<std::size_t> orphans;
    fs::path root = app.data_dir() / "runs";
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        return orphans;
    }
    std::vector<fs::path> folders;
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;
        auto status = it->symlink_status(type_ec);
        if (fs::is_directory(status) || fs::is_symlink(status)) {
            folders.push_back(it->path());
        }
    }
    if (ec) {
        return core::fail(core::ErrorCode::io,
                          fmt::format("cannot list {}: {}", root.string(), ec.message()));
    }
    std::sort(folders.begin(), folders.end());
    for (const auto& folder : folders) {
        ++report.run_folders;
        std::string name = folder.filename().string();
        // One point query each, after the listing: a run made while we looked is not an orphan.
        COSMOS_TRY(auto run, store::get_run(app.db, name));
        if (run) {
            continue;
        }
        orphans.push_back(report.findings.size());
        report.findings.push_back({"orphan_run_folder",
                                   Severity::error,
                                   name,
                                   folder.string(),
                                   "a run folder that no run in the database owns",
                                   {},
                                   false});
    }
    return orphans;
}

void repair_runs(const App& app, VerifyReport& report, const std::vector<RunCheck>& checked) {
    for (const auto& c : checked) {
        if (imported(c.run.source)) {
            for (auto i : c.findings) {
                report.findings[i].repair =
                    "left alone: an imported run's paths name the old tool's files (copy them "
                    "there, or keep the record as it is)";
            }
            continue;
        }
        std::string gone;
        for (auto i : c.findings) {
            gone += fmt::format("{}{} {}",
                                gone.empty() ? "" : "; ",
                                report.findings[i].kind.substr(std::string("missing_").size()),
                                report.findings[i].path);
        }
        std::string detail = fmt::format("cosmos verify --repair: forgot what is gone: {}", gone);
        auto s = store::forget_run_files(app.db, c.run.id, c.gone, detail);
        for (auto i : c.findings) {
            auto& f = report.findings[i];
            f.repaired = s.has_value();
            f.repair = s ? "path cleared from the run; an event records it"
                         : fmt::format("not repaired: {}", s.error().message);
        }
    }
}

void repair_orphans(const App& app, VerifyReport& report, const std::vector<std::size_t>& orphans) {
    if (orphans.empty()) {
        return;
    }
    fs::path into = app.data_dir() / "orphans" / stamp();
    std::error_code ec;
    fs::create_directories(into, ec);
    if (ec) {
        for (auto i : orphans) {
            report.findings[i].repair =
                fmt::format("not moved: cannot create {}: {}", into.string(), ec.message());
        }
        return;
    }
    report.orphans_dir = into.string();
    for (auto i : orphans) {
        auto& f = report.findings[i];
        fs::path to = into / f.subject;
        for (int n = 2; n < 1000 && fs::symlink_status(to, ec).type() != fs::file_type::not_found;
             ++n) {
            to = into / fmt::format("{}.{}", f.subject, n);
        }
        // A rename within the data dir: the folder is moved whole or not at all (a folder on
        // another file system is refused, never copied and removed).
        fs::rename(f.path, to, ec);
        if (ec) {
            f.repair = fmt::format("not moved: {}", ec.message());
            continue;
        }
        f.repaired = true;
        f.repair = fmt::format("moved to {}", to.string());
    }
}

}  // namespace

core::Result<VerifyReport> verify_store(const App& app, const VerifyOptions& options) {
    VerifyReport report;
    report.repair = options.repair;
    report.database = app.db.path().string();
    check_database(app, report);
    bool damaged = !report.findings.empty();
    std::vector<RunCheck> runs;
    COSMOS_CHECK(check_runs(app, report, runs));
    COSMOS_CHECK(check_prompts(app, report));
    COSMOS_TRY(auto orphans, check_folders(app, report));
    if (!options.repair) {
        return report;
    }
    if (damaged) {
        // What the damaged database says may be wrong: nothing is changed on its word.
        for (auto& f : report.findings) {
            if (f.repair.empty()) {
                f.repair =
                    "not repaired: the database itself is damaged (see above); nothing "
                    "was changed";
            }
        }
        return report;
    }
    repair_runs(app, report, runs);
    repair_orphans(app, report, orphans);
    for (auto& f : report.findings) {
        if (f.kind == "missing_input" && f.repair.empty()) {
            f.repair =
                "left alone: the inputs are yours; put them back, or create a new prompt from "
                "the files where they are now";
        }
    }
    return report;
}

}  // namespace cosmos::services
