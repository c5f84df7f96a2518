// `cosmos stage --host NAME FILE...`: copies input files into a host's content-addressed cache
// (<work_dir>/cache/<sha256><ext>, see docs/ssh.md), sending only what is missing.

#include <chrono>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "backends/ssh_target.hpp"
#include "cli/context.hpp"
#include "cli/progress_bar.hpp"
#include "transport/staging.hpp"

namespace cosmos::cli {

using core::ErrorCode;
using core::fail;

namespace {

struct StageOptions {
    std::string host;
    std::vector<std::string> files;
};

core::Status stage(const Context& ctx, const StageOptions& opt) {
    COSMOS_TRY(auto cfg, ctx.load_config());
    transport::set_local_hash_cache(cfg.paths.data_dir / "staging" / "local-hashes.json");
    auto it = cfg.hosts.find(opt.host);
    if (it == cfg.hosts.end()) {
        return fail(ErrorCode::not_found,
                    fmt::format("no host {} in the configuration", opt.host),
                    "see the hosts with: cosmos config show");
    }
    const auto& host = it->second;
    COSMOS_TRY(auto shell, backends::shell_for(host));
    shell->set_cancel_flag(&g_interrupted);  // Ctrl-C stops the upload, keeping its .part
    COSMOS_TRY(std::string cache_dir, backends::cache_dir_for(host));
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    std::vector<std::vector<std::string>> rows = {{"FILE", "SHA256", "REMOTE", "SENT", "SECONDS"}};
    const bool bars = ProgressBar::detect() && !ctx.out.json && !ctx.out.quiet;
    for (const auto& file : opt.files) {
        std::filesystem::path local(file);
        std::error_code ec;
        auto size = std::filesystem::file_size(local, ec);
        ProgressBar bar(local.filename().string(), ec ? 0 : size, bars);
        auto start = std::chrono::steady_clock::now();
        COSMOS_TRY(auto staged, transport::stage_file(*shell, local, cache_dir, [&](const auto& p) {
                       bar.update(p.done);
                   }));
        bar.finish();
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        out.push_back({{"file", file},
                       {"sha256", staged.sha256},
                       {"remote_path", staged.remote_path},
                       {"size", staged.size},
                       {"uploaded_bytes", staged.uploaded_bytes},
                       {"hashed_bytes", staged.hashed_bytes},
                       {"read_bytes", staged.read_bytes},
                       {"proof", staged.proof},
                       {"repaired", staged.repaired},
                       {"seconds", seconds}});
        rows.push_back({file,
                        staged.sha256,
                        staged.remote_path,
                        std::to_string(staged.uploaded_bytes),
                        fmt::format("{:.2f}", seconds)});
    }
    if (ctx.out.json) {
        ctx.out.print_json(out);
    } else {
        print_table(rows);
    }
    return {};
}

}  // namespace

void add_stage_command(CLI::App& app, Context& ctx) {
    auto opt = std::make_shared<StageOptions>();
    auto* cmd = app.add_subcommand(
        "stage",
        "Copy input files into a host's cache (<work_dir>/cache/<sha256><ext>), sending only "
        "what is missing and resuming partial copies");
    cmd->add_option("--host", opt->host, "The host (a [hosts.NAME] of the configuration)")
        ->required();
    cmd->add_option("FILE", opt->files, "Files to stage")->required();
    cmd->callback([&ctx, opt] {
        ctx.action = [&ctx, opt] { return ctx.guard([&] { return stage(ctx, *opt); }); };
    });
}

}  // namespace cosmos::cli
