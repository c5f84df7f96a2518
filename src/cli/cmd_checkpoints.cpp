// `cosmos checkpoints manifest|verify`: a manifest of a host's (or a local directory's)
// checkpoint files, and checking a host against one. See docs/supply-chain.md.

#include <fstream>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "core/read_file.hpp"
#include "services/checkpoints.hpp"

namespace cosmos::cli {

using core::ErrorCode;
using core::fail;

namespace {

struct TargetArgs {
    std::string host;
    std::string local;
    int jobs = 0;
};

void add_target_options(CLI::App* cmd, TargetArgs& a) {
    cmd->add_option("--host", a.host, "Host whose checkpoint dir to hash (default: [run] host)");
    cmd->add_option("--local", a.local, "Hash this local directory instead of a host's")
        ->type_name("DIR");
    cmd->add_option("-j,--jobs", a.jobs, "Files hashed in parallel (default: the cores there)");
}

core::Result<services::CheckpointTarget> target_of(services::App& app, const TargetArgs& a) {
    if (!a.local.empty()) {
        if (!a.host.empty()) {
            return fail(ErrorCode::invalid_input, "give --host or --local, not both");
        }
        return services::CheckpointTarget{std::nullopt, a.local};
    }
    COSMOS_TRY(auto host,
               config::find_host(app.config, a.host.empty() ? app.config.run.host : a.host));
    return services::CheckpointTarget{host, {}};
}

std::string target_label(const services::CheckpointTarget& t) {
    return t.host ? fmt::format("host {}", t.host->name) : t.local_dir.string();
}

nlohmann::ordered_json hashing_json(const services::HashOutcome& h) {
    return {{"dir", h.dir},
            {"files", h.report.files.size()},
            {"files_read", h.report.files_read},
            {"bytes_read", h.report.bytes_read}};
}

void add_manifest(CLI::App& parent, Context& ctx) {
    struct Args {
        TargetArgs target;
        std::string output;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand(
        "manifest",
        "Hash every file under a host's checkpoint dir (on the host, in parallel) and write a "
        "manifest: relative path, size, sha256 and source repository; keep it in version control");
    add_target_options(cmd, a->target);
    cmd->add_option("-o,--output", a->output, "Write the manifest here (default: stdout)")
        ->type_name("FILE");
    cmd->footer(
        "Examples:\n  cosmos checkpoints manifest --host gpu1 -o checkpoints.json\n"
        "  cosmos checkpoints manifest --local /data/checkpoints -o checkpoints.json");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                COSMOS_TRY(auto target, target_of(*app, a->target));
                COSMOS_TRY(auto built, services::build_manifest(*app, target, a->target.jobs));
                auto& [manifest, hashed] = built;
                std::string text = model::manifest_json(manifest).dump(2) + "\n";
                if (a->output.empty()) {
                    std::fwrite(text.data(), 1, text.size(), stdout);
                } else {
                    std::ofstream out(a->output, std::ios::binary | std::ios::trunc);
                    out << text;
                    if (!out) {
                        return fail(ErrorCode::io, fmt::format("cannot write {}", a->output));
                    }
                    if (ctx.out.json) {
                        auto j = hashing_json(hashed);
                        j["manifest"] = a->output;
                        ctx.out.print_json(j);
                    } else {
                        ctx.out.print_line(fmt::format("{}: {} files of {} written to {}",
                                                       target_label(target),
                                                       manifest.files.size(),
                                                       hashed.dir,
                                                       a->output));
                    }
                }
                ctx.out.note(
                    fmt::format("{} of {} file(s) read ({} bytes); the rest were "
                                "unchanged since the last pass",
                                hashed.report.files_read,
                                hashed.report.files.size(),
                                hashed.report.bytes_read));
                return {};
            });
        };
    });
}

void add_verify(CLI::App& parent, Context& ctx) {
    struct Args {
        TargetArgs target;
        std::string manifest;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand(
        "verify",
        "Check a host's checkpoints against a manifest, hashing on the host in parallel and "
        "re-reading only files whose size or mtime changed since the last pass; names every "
        "missing, extra and changed file. Runs refuse to start on a host whose last verify "
        "failed or is older than its checkpoints (exit 5 when it does not match)");
    add_target_options(cmd, a->target);
    cmd->add_option("--manifest",
                    a->manifest,
                    "Manifest to check against (default: the last one `checkpoints manifest` "
                    "wrote for this target)")
        ->type_name("FILE");
    cmd->footer(
        "Examples:\n  cosmos checkpoints verify --host gpu1 --manifest checkpoints.json\n"
        "  cosmos checkpoints verify --local /data/checkpoints --manifest checkpoints.json");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a]() -> int {
            bool mismatch = false;
            int code = ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                COSMOS_TRY(auto target, target_of(*app, a->target));
                std::string text;
                if (!a->manifest.empty()) {
                    COSMOS_TRY(text,
                               core::read_file(a->manifest, core::kManifestFileMax, "manifest"));
                    if (text.empty()) {
                        return fail(ErrorCode::invalid_input,
                                    fmt::format("manifest {} is empty", a->manifest));
                    }
                }
                COSMOS_TRY(auto outcome,
                           services::verify_checkpoints(*app, target, text, a->target.jobs));
                const auto& d = outcome.diff;
                if (ctx.out.json) {
                    auto j = hashing_json(outcome.hashed);
                    j["ok"] = outcome.ok();
                    j["matched"] = d.matched;
                    j["missing"] = d.missing;
                    j["extra"] = d.extra;
                    nlohmann::ordered_json changed = nlohmann::ordered_json::array();
                    for (const auto& c : d.changed) {
                        changed.push_back({{"path", c.path},
                                           {"expected_size", c.expected_size},
                                           {"actual_size", c.actual_size},
                                           {"expected_sha256", c.expected_sha256},
                                           {"actual_sha256", c.actual_sha256}});
                    }
                    j["changed"] = changed;
                    ctx.out.print_json(j);
                } else {
                    for (const auto& line : model::describe_diff(d)) {
                        ctx.out.print_line(line);
                    }
                    ctx.out.print_line(fmt::format(
                        "{}: {} ({} matched, {} missing, {} changed, {} extra; {} of {} file(s) "
                        "read)",
                        target_label(target),
                        outcome.ok() ? "ok" : "MISMATCH",
                        d.matched,
                        d.missing.size(),
                        d.changed.size(),
                        d.extra.size(),
                        outcome.hashed.report.files_read,
                        outcome.hashed.report.files.size()));
                }
                mismatch = !outcome.ok();
                return {};
            });
            if (code == 0 && mismatch) {
                ctx.out.note(
                    "checkpoints do not match the manifest; runs on this host are "
                    "refused until a verify passes (or with --skip-verify)");
                return core::exit_code_for(ErrorCode::conflict);
            }
            return code;
        };
    });
}

}  // namespace

void add_checkpoints_commands(CLI::App& app, Context& ctx) {
    auto* group = app.add_subcommand(
        "checkpoints", "Checkpoint manifests: write one from a host, verify hosts against it");
    group->require_subcommand(1);
    add_manifest(*group, ctx);
    add_verify(*group, ctx);
}

}  // namespace cosmos::cli
