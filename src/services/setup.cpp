// `cosmos setup image|checkpoints`: build the image and download checkpoints on a host.

#include "services/setup.hpp"

#include <algorithm>
#include <cctype>
#include <deque>
#include <set>

#include <fmt/format.h>

#include "backends/checkpoint_hash.hpp"
#include "core/embedded_scripts.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/shell_quote.hpp"
#include "scheduler/job.hpp"
#include "services/hf_token.hpp"
#include "services/hosts.hpp"
#include "transport/local_process.hpp"

namespace cosmos::services {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

namespace {

// The remote build and download scripts are src/services/scripts/setup-*.sh.

// Keeps the last lines of output for error messages.
struct Tail {
    std::deque<std::string> lines;
    void add(std::string_view l) {
        lines.emplace_back(l);
        if (lines.size() > 5) {
            lines.pop_front();
        }
    }
    std::string text() const {
        std::string out;
        for (const auto& l : lines) {
            out += (out.empty() ? "" : " | ") + l;
        }
        return out;
    }
};

// Runs argv (with `env` and `cwd`) on a local host, or `ssh_argv` on an ssh host, streaming.
core::Result<int> stream_on(const config::HostConfig& host,
                            std::optional<backends::RemoteHost>& remote,
                            const std::vector<std::string>& local_argv,
                            const std::map<std::string, std::string>& local_env,
                            const std::string& local_cwd,
                            const std::vector<std::string>& ssh_argv,
                            const std::function<void(std::string_view)>& on_line,
                            const std::atomic<bool>* stop) {
    if (host.kind != core::HostKind::local) {
        return remote->shell->stream(ssh_argv, on_line, stop);
    }
    transport::ProcessSpec spec{local_argv, local_env, local_cwd};
    COSMOS_TRY(auto exit, transport::run_process(spec, on_line, stop));
    if (exit.cancelled) {
        return fail(ErrorCode::interrupted, "stopped");
    }
    return exit.exit_code;
}

core::Result<std::optional<backends::RemoteHost>> connect(const config::HostConfig& host) {
    if (host.kind != core::HostKind::local) {
        COSMOS_TRY(auto remote, scheduler::open_host(host));
        return std::optional<backends::RemoteHost>(std::move(remote));
    }
    if (host.kind != core::HostKind::local) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format(
                "host {} is of kind {}, which setup does not support", host.name, host.kind));
    }
    return std::optional<backends::RemoteHost>();
}

}  // namespace

core::Status check_version_tag(const std::string& tag) {
    bool ok = !tag.empty() && tag.size() <= 128 && tag != "latest" &&
              (std::isalnum(static_cast<unsigned char>(tag[0])) != 0 || tag[0] == '_') &&
              std::all_of(tag.begin(), tag.end(), [](char c) {
                  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' ||
                         c == '-';
              });
    if (!ok) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("'{}' is not a version tag", tag),
                    "use a tag like v1.2.3 (letters, digits, '.', '-', '_'; not latest)");
    }
    return {};
}

std::string image_repository(const std::string& image) {
    std::string name = image.substr(0, image.find('@'));
    auto slash = name.rfind('/');
    auto colon = name.rfind(':');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
        name.resize(colon);
    }
    return name;
}

core::Result<SetupImageResult> setup_image(const App& app,
                                           const config::HostConfig& host,
                                           const std::string& tag,
                                           const SetupLineFn& on_line,
                                           const std::atomic<bool>* stop) {
    if (auto s = check_version_tag(tag); !s) {
        return fail(s.error());
    }
    std::string base = !host.container.image.empty()      ? host.container.image
                       : !app.config.docker.image.empty() ? app.config.docker.image
                                                          : std::string("cosmos-transfer1");
    std::string image = image_repository(base) + ":" + tag;
    COSMOS_TRY(auto remote, connect(host));
    std::string cosmos_dir = remote ? remote->cosmos_dir : host.cosmos_dir.string();
    Tail tail;
    auto sink = [&](std::string_view raw) {
        std::string line = core::redact(raw);
        tail.add(line);
        if (on_line) {
            on_line(line);
        }
    };
    COSMOS_TRY(int code,
               stream_on(host,
                         remote,
                         {host.container.docker, "build", "-f", "Dockerfile", "-t", image, "."},
                         {},
                         cosmos_dir,
                         {"sh",
                          "-c",
                          std::string(scripts::k_setup_build_image),
                          "sh",
                          cosmos_dir,
                          host.container.docker,
                          image},
                         sink,
                         stop));
    if (code == 3 && remote) {
        return fail(ErrorCode::not_found,
                    fmt::format("no Cosmos checkout {} on host {}", cosmos_dir, host.name));
    }
    if (code != 0) {
        return fail(ErrorCode::remote_failed,
                    fmt::format("building {} on host {} failed (exit {}): {}",
                                image,
                                host.name,
                                code,
                                tail.text()));
    }
    SetupImageResult result{image, false};
    if (host.managed) {
        config::HostConfig updated = host;
        updated.container.image = image;  // the runtime stays as configured
        COSMOS_TRY(auto saved, add_host(app.config, updated, true));
        (void)saved;
        result.host_updated = true;
    }
    return result;
}

core::Result<SetupCheckpointsResult> setup_checkpoints(const App& app,
                                                       const config::HostConfig& host,
                                                       const SetupCheckpointsOptions& options) {
    if (options.model && *options.model == "transfer2.5") {
        return fail(ErrorCode::invalid_input,
                    "Cosmos-Transfer2.5 has no download script: it fetches its checkpoints from "
                    "Hugging Face into the host's cache on its first run",
                    "give the host the token (cosmos hosts add NAME --env HF_TOKEN=..., or "
                    "[huggingface] token_file) and run once; `cosmos checkpoints manifest` then "
                    "hashes what it fetched (docs/models/transfer2.5.md)");
    }
    if (options.model && *options.model != "all" && *options.model != "7b" &&
        *options.model != "7b_av") {
        return fail(ErrorCode::invalid_input,
                    fmt::format("--model '{}' is not one of all, 7b, 7b_av", *options.model));
    }
    COSMOS_TRY(auto token, huggingface_token(app.config));
    COSMOS_TRY(auto remote, connect(host));
    std::string cosmos_dir = remote ? remote->cosmos_dir : host.cosmos_dir.string();
    std::string checkpoint_dir =
        remote
            ? remote->checkpoint_dir
            : (host.checkpoint_dir.empty() ? host.cosmos_dir / "checkpoints" : host.checkpoint_dir)
                  .string();
    std::vector<std::string> extra;
    if (options.model) {
        extra = {"--model", *options.model};
    }
    SetupCheckpointsResult result;
    result.token_used = token.has_value();
    std::string secret_file;
    if (remote) {
        // The token goes in a 0600 file the command sources and deletes first thing.
        std::string dir = remote->work_dir + "/setup";
        if (auto s = remote->shell->make_dirs(dir); !s) {
            return fail(s.error());
        }
        secret_file = dir + "/" + core::new_id(core::IdKind::job) + ".env";
        std::string content = token ? "HF_TOKEN=" + core::shell_quote(*token) + "\n" : "";
        if (auto s = remote->shell->write_file(secret_file, content, 0600); !s) {
            return fail(s.error());
        }
    }
    std::map<std::string, std::string> env;
    if (token) {
        env["HF_TOKEN"] = *token;
    }
    std::vector<std::string> local_argv = {
        "python3", "scripts/download_checkpoints.py", "--output_dir", checkpoint_dir};
    local_argv.insert(local_argv.end(), extra.begin(), extra.end());
    std::vector<std::string> ssh_argv = {"sh",
                                         "-c",
                                         std::string(scripts::k_setup_download_checkpoints),
                                         "sh",
                                         secret_file,
                                         cosmos_dir,
                                         checkpoint_dir};
    ssh_argv.insert(ssh_argv.end(), extra.begin(), extra.end());
    auto sink = [&](std::string_view raw) {
        if (options.on_line) {
            options.on_line(core::redact(raw));
        }
    };
    auto code = stream_on(host, remote, local_argv, env, cosmos_dir, ssh_argv, sink, options.stop);
    if (remote) {
        core::warn_on_error(remote->shell->run({"rm", "-f", secret_file}),
                            "remote->shell->run");  // when the script never started
    }
    if (!code) {
        return fail(code.error());
    }
    result.script_exit = *code;
    if (*code == 3 && remote) {
        return fail(ErrorCode::not_found,
                    fmt::format("no Cosmos checkout {} on host {}", cosmos_dir, host.name));
    }
    if (*code != 0) {
        return fail(
            ErrorCode::remote_failed,
            fmt::format("the checkpoint download on host {} failed (exit {})", host.name, *code),
            "its output is above; run it again to resume");
    }
    // The script exits 0 even when downloads failed: look at the files.
    CheckpointTarget target{host, {}};
    auto verified = verify_checkpoints(app, target, options.manifest_text, options.jobs);
    if (verified) {
        result.files = verified->hashed.report.files.size();
        result.verified = std::move(*verified);
        return result;
    }
    if (verified.error().code != ErrorCode::not_found || !options.manifest_text.empty()) {
        return fail(verified.error());
    }
    // No manifest yet: check the model contract's files for the chosen model.
    std::set<std::string> have;
    if (remote) {
        COSMOS_TRY(
            auto listing,
            remote->shell->run({"sh",
                                "-c",
                                "cd -- \"$1\" 2>/dev/null && find -L . -type f -printf '%P\\n'",
                                "sh",
                                checkpoint_dir}));
        std::size_t start = 0;
        while (start < listing.out.size()) {
            auto end = listing.out.find('\n', start);
            end = end == std::string::npos ? listing.out.size() : end;
            have.insert(listing.out.substr(start, end - start));
            start = end + 1;
        }
    } else {
        std::error_code ec;
        for (fs::recursive_directory_iterator it(checkpoint_dir, ec), e; !ec && it != e;
             it.increment(ec)) {
            if (it->is_regular_file(ec)) {
                have.insert(it->path().lexically_relative(checkpoint_dir).generic_string());
            }
        }
    }
    result.files = have.size();
    std::string model = options.model.value_or("all");
    for (const auto& path : model::reference_md5_paths()) {
        bool av = path.find("-Sample-AV") != std::string::npos;
        bool base = path.rfind("nvidia/Cosmos-Transfer1-7B/", 0) == 0;
        bool tokenizer = path.rfind("nvidia/Cosmos-Tokenize1-CV8x8x8-720p/", 0) == 0;
        bool wanted = (model == "7b" && (base || tokenizer)) ||
                      (model == "7b_av" && (av || tokenizer)) ||
                      (model == "all" && (base || tokenizer));
        if (wanted && have.count(path) == 0) {
            result.missing_reference_files.push_back(path);
        }
    }
    return result;
}

}  // namespace cosmos::services
