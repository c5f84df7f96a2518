// `cosmos setup image|checkpoints`: prepare a host — build the Cosmos image with a versioned
// tag, download the checkpoints with the Hugging Face token — streaming the output of both.

#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "core/clock.hpp"
#include "core/read_file.hpp"
#include "services/setup.hpp"

namespace cosmos::cli {

using core::ErrorCode;
using core::fail;

namespace {

// A default version tag from the UTC time: v2026.11.30-0412.
std::string default_tag() {
    std::string iso = core::now_iso();  // 2026-11-30T04:12:05.123Z
    if (iso.size() < 16) {
        return "v0";
    }
    return fmt::format("v{}.{}.{}-{}{}",
                       iso.substr(0, 4),
                       iso.substr(5, 2),
                       iso.substr(8, 2),
                       iso.substr(11, 2),
                       iso.substr(14, 2));
}

void add_setup_image(CLI::App& parent, Context& ctx) {
    struct Args {
        std::string host;
        std::string tag;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand(
        "image",
        "Build the Cosmos image on a host from its checkout (docker build -f Dockerfile . -t "
        "REPO:TAG), streaming the build log, and write the tag into the host's entry of the "
        "hosts file");
    cmd->add_option("--host", a->host, "Host to build on")->required();
    cmd->add_option("--tag", a->tag, "Version tag (default: v<UTC date>-<HHMM>)");
    cmd->footer("Examples:\n  cosmos setup image --host gpu1 --tag v1.2.0");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                COSMOS_TRY(auto host, config::find_host(app->config, a->host));
                std::string tag = a->tag.empty() ? default_tag() : a->tag;
                auto on_line = [&ctx](std::string_view line) { ctx.out.note(line); };
                COSMOS_TRY(auto r, services::setup_image(*app, host, tag, on_line, &g_interrupted));
                if (ctx.out.json) {
                    ctx.out.print_json({{"host", host.name},
                                        {"image", r.image},
                                        {"host_updated", r.host_updated}});
                } else {
                    ctx.out.print_line(r.image);
                    if (host.runtime != core::RuntimeKind::docker) {
                        ctx.out.note(
                            fmt::format("host {} uses the {} runtime: runs use the image "
                                        "once it is a docker host",
                                        host.name,
                                        host.runtime));
                    }
                    ctx.out.note(r.host_updated
                                     ? fmt::format("host {} now runs {}", host.name, r.image)
                                     : fmt::format("host {} is defined in {}: set image = \"{}\" "
                                                   "in its [hosts.{}] table",
                                                   host.name,
                                                   app->config.source.string(),
                                                   r.image,
                                                   host.name));
                }
                return {};
            });
        };
    });
}

void add_setup_checkpoints(CLI::App& parent, Context& ctx) {
    struct Args {
        std::string host;
        std::string model;
        std::string manifest;
        int jobs = 0;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand(
        "checkpoints",
        "Download the checkpoints on a host (scripts/download_checkpoints.py of its checkout, "
        "resumable: files already there are skipped) with the Hugging Face token, then check "
        "the files: against the manifest when there is one (recorded as the host's verify)");
    cmd->add_option("--host", a->host, "Host to download on")->required();
    cmd->add_option("--model",
                    a->model,
                    "Transfer1's all, 7b or 7b_av (the script's --model); transfer2.5 explains "
                    "how that model gets its checkpoints");
    cmd->add_option("--manifest", a->manifest, "Verify against this manifest afterwards")
        ->type_name("FILE");
    cmd->add_option("-j,--jobs", a->jobs, "Files hashed in parallel when verifying");
    cmd->footer(
        "Examples:\n  HF_TOKEN=... cosmos setup checkpoints --host gpu1 --model 7b\n"
        "  cosmos setup checkpoints --host gpu1 --manifest checkpoints.json");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a]() -> int {
            bool bad = false;
            int code = ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                COSMOS_TRY(auto host, config::find_host(app->config, a->host));
                services::SetupCheckpointsOptions o;
                if (!a->model.empty()) {
                    o.model = a->model;
                }
                if (!a->manifest.empty()) {
                    COSMOS_TRY(o.manifest_text,
                               core::read_file(a->manifest, core::kManifestFileMax, "manifest"));
                }
                o.jobs = a->jobs;
                o.on_line = [&ctx](std::string_view line) { ctx.out.note(line); };
                o.stop = &g_interrupted;
                COSMOS_TRY(auto r, services::setup_checkpoints(*app, host, o));
                std::vector<std::string> problems;
                if (r.verified) {
                    problems = model::describe_diff(r.verified->diff);
                } else {
                    for (const auto& p : r.missing_reference_files) {
                        problems.push_back("missing " + p);
                    }
                }
                bad = !problems.empty();
                if (ctx.out.json) {
                    ctx.out.print_json({{"host", host.name},
                                        {"ok", !bad},
                                        {"token", r.token_used},
                                        {"files", r.files},
                                        {"verified", r.verified.has_value()},
                                        {"problems", problems}});
                } else {
                    for (const auto& p : problems) {
                        ctx.out.print_line(p);
                    }
                    ctx.out.print_line(fmt::format(
                        "host {}: {} file(s); {}",
                        host.name,
                        r.files,
                        bad ? "INCOMPLETE (the download script exits 0 even when downloads fail)"
                            : (r.verified ? "matches the manifest"
                                          : "all reference files present")));
                }
                if (!r.token_used) {
                    ctx.out.note(
                        "no Hugging Face token (HF_TOKEN or [huggingface] token_file): "
                        "gated repositories cannot be downloaded");
                }
                return {};
            });
            return code == 0 && bad ? core::exit_code_for(ErrorCode::remote_failed) : code;
        };
    });
}

}  // namespace

void add_setup_commands(CLI::App& app, Context& ctx) {
    auto* group = app.add_subcommand(
        "setup", "Prepare a host: build the Cosmos image, download the checkpoints");
    group->require_subcommand(1);
    add_setup_image(*group, ctx);
    add_setup_checkpoints(*group, ctx);
}

}  // namespace cosmos::cli
