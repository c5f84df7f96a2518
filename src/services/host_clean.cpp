// Cleaning a GPU host's job dirs and input cache (see host_clean.hpp).

#include "services/host_clean.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>

#include "core/embedded_scripts.hpp"
#include "core/redact.hpp"
#include "scheduler/job.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

namespace {

// The listing scripts are src/services/scripts/host-clean-list-{jobs,files}.sh.

constexpr std::size_t k_chunk = 200;  // paths per rm command
constexpr std::chrono::minutes k_min_cache_age{10};

bool is_plain_name(const std::string& name) {
    return !name.empty() && name != "." && name != ".." &&
           name.find_first_not_of(
               "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
               std::string::npos;
}

// Why the job dir `name` must stay (empty: it may go once old enough).
core::Result<std::string> keep_reason(const App& app, const std::string& name) {
    std::vector<store::RunRecord> runs;
    if (name.rfind("bat_", 0) == 0) {
        COSMOS_TRY(runs, store::batch_runs(app.db, name));
    } else {
        COSMOS_TRY(auto run, store::get_run(app.db, name));
        if (run) {
            runs.push_back(*run);
        }
    }
    if (runs.empty()) {
        return std::string("not a run or batch of this database");
    }
    for (const auto& r : runs) {
        if (!store::is_terminal(r.status)) {
            return fmt::format("run {} is {}", r.id, store::to_string(r.status));
        }
        // A prompt-enhance run makes no video: what it made (the new prompt) is in the
        // database, so its job dir holds nothing that is not home.
        if (r.status == store::RunStatus::succeeded && r.kind != core::RunKind::enhance &&
            (!r.output_video || !fs::exists(*r.output_video))) {
            return fmt::format(
                "the output of run {} is not home (the host's copy may be the only one)", r.id);
        }
    }
    return std::string();
}

std::string age_text(std::chrono::seconds age) {
    auto n = age.count();
    if (n % 86400 == 0 && n > 0) {
        return fmt::format("{}d", n / 86400);
    }
    if (n % 3600 == 0 && n > 0) {
        return fmt::format("{}h", n / 3600);
    }
    if (n % 60 == 0 && n > 0) {
        return fmt::format("{}m", n / 60);
    }
    return fmt::format("{}s", n);
}

std::int64_t now_epoch() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

core::Status remove_paths(const backends::RemoteHost& host, const std::vector<std::string>& paths) {
    for (std::size_t i = 0; i < paths.size(); i += k_chunk) {
        std::vector<std::string> argv{"rm", "-rf", "--"};
        auto end = std::min(paths.size(), i + k_chunk);
        argv.insert(argv.end(),
                    paths.begin() + static_cast<std::ptrdiff_t>(i),
                    paths.begin() + static_cast<std::ptrdiff_t>(end));
        COSMOS_TRY(auto r, host.shell->run(argv));
        if (r.exit_code != 0) {
            return fail(
                ErrorCode::remote_failed,
                fmt::format(
                    "removing from host {} failed: {}", host.config.name, core::redact(r.err)));
        }
    }
    return {};
}

}  // namespace

core::Result<std::chrono::seconds> parse_age(const std::string& text) {
    std::size_t used = 0;
    long long n = -1;
    try {
        n = std::stoll(text, &used);
    } catch (const std::exception&) {
        n = -1;
    }
    std::string unit = text.substr(std::min(used, text.size()));
    long long scale = unit == "d"                   ? 86400
                      : unit == "h"                 ? 3600
                      : unit == "m"                 ? 60
                      : unit == "s" || unit.empty() ? 1
                                                    : 0;
    if (n < 0 || scale == 0 || text.empty() || !std::isdigit(static_cast<unsigned char>(text[0])) ||
        n > 36500LL * 86400 / scale) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("'{}' is not an age", text),
                    "use a number with d, h, m or s: 7d, 12h, 30m, 0");
    }
    return std::chrono::seconds(n * scale);
}

core::Result<CleanReport> clean_host(const App& app,
                                     const config::HostConfig& cfg,
                                     const CleanOptions& options) {
    COSMOS_TRY(auto host, scheduler::open_host(cfg));
    CleanReport report;
    report.host = cfg.name;
    report.dry_run = options.dry_run;
    const std::int64_t now = now_epoch();
    const std::string jobs = host.jobs_dir();

    COSMOS_TRY(
        auto listed,
        host.shell->run(
            {"sh", "-c", std::string(scripts::k_host_clean_list_jobs), "cosmos-clean", jobs}));
    if (listed.exit_code != 0) {
        return fail(
            ErrorCode::remote_failed,
            fmt::format(
                "listing {} on host {} failed: {}", jobs, cfg.name, core::redact(listed.err)));
    }
    std::vector<std::string> doomed;
    std::istringstream lines(listed.out);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::int64_t kb = 0;
        std::int64_t changed = 0;
        std::string name;
        fields >> kb >> changed;
        std::getline(fields >> std::ws, name);
        if (!name.empty() && name.back() == '/') {
            name.pop_back();
        }
        CleanEntry entry{jobs + "/" + name, "job", kb * 1024, {}};
        if (!is_plain_name(name)) {
            entry.reason = "not a run or batch of this database";
        } else {
            COSMOS_TRY(entry.reason, keep_reason(app, name));
            if (entry.reason.empty() && now - changed < options.older_than.count()) {
                entry.reason =
                    fmt::format("changed within the last {}", age_text(options.older_than));
            }
        }
        if (entry.reason.empty()) {
            doomed.push_back(entry.path);
            report.bytes_removed += entry.bytes;
            report.removed.push_back(std::move(entry));
        } else {
            report.kept.push_back(std::move(entry));
        }
    }
    if (!options.dry_run) {
        // Job dirs first: their links then no longer count against the cached files.
        if (auto s = remove_paths(host, doomed); !s) {
            return fail(s.error());
        }
    }

    COSMOS_TRY(auto files,
               host.shell->run({"sh",
                                "-c",
                                std::string(scripts::k_host_clean_list_files),
                                "cosmos-clean",
                                host.cache_dir(),
                                host.work_dir + "/arrays"}));
    const std::int64_t cache_age = std::max<std::int64_t>(
        options.older_than.count(),
        std::chrono::duration_cast<std::chrono::seconds>(k_min_cache_age).count());
    std::vector<std::string> gone_files;
    std::istringstream file_lines(files.out);
    for (std::string line; std::getline(file_lines, line);) {
        std::istringstream fields(line);
        std::string kind;
        std::int64_t bytes = 0;
        double changed = 0;
        std::string path;
        fields >> kind >> bytes >> changed;
        std::getline(fields >> std::ws, path);
        if (path.empty() || (kind != "cache" && kind != "array")) {
            continue;
        }
        std::int64_t age = now - static_cast<std::int64_t>(changed);
        if (age < (kind == "cache" ? cache_age : options.older_than.count())) {
            continue;
        }
        gone_files.push_back(path);
        report.bytes_removed += bytes;
        report.removed.push_back(CleanEntry{path, kind, bytes, {}});
    }
    // In dry-run mode the job dirs still link their cached inputs: those are not listed here,
    // and the report says that it underestimates.
    if (!options.dry_run) {
        if (auto s = remove_paths(host, gone_files); !s) {
            return fail(s.error());
        }
    }
    return report;
}

}  // namespace cosmos::services
