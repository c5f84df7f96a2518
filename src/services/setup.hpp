#pragma once
// Host setup (docs/supply-chain.md): building the Cosmos image on a host with a versioned tag
// (`cosmos setup image`) and downloading the checkpoints there with the Hugging Face token
// (`cosmos setup checkpoints`), streaming the output of both.

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "services/app.hpp"
#include "services/checkpoints.hpp"

namespace cosmos::services {

using SetupLineFn = std::function<void(std::string_view line)>;

// Checks that `tag` is a version tag docker accepts and is not `latest`; fails with
// invalid_input otherwise.
core::Status check_version_tag(const std::string& tag);

// The repository part of an image reference ("reg:5000/a/b:v1" → "reg:5000/a/b").
std::string image_repository(const std::string& image);

struct SetupImageResult {
    std::string image;          // repo:tag built
    bool host_updated = false;  // the hosts file entry now names it
};

// Runs `<docker> build -f Dockerfile . -t <repo>:<tag>` in the host's Cosmos checkout (repo: the
// host's or [docker] image's repository, else "cosmos-transfer1"), streaming its output to
// `on_line` (redacted), then writes the image into the host's hosts-file entry (hosts of the
// config file are never edited: host_updated stays false). Fails with remote_failed when the
// build fails, interrupted when `stop` became true.
core::Result<SetupImageResult> setup_image(const App& app,
                                           const config::HostConfig& host,
                                           const std::string& tag,
                                           const SetupLineFn& on_line,
                                           const std::atomic<bool>* stop);

struct SetupCheckpointsOptions {
    std::optional<std::string> model;  // --model all|7b|7b_av of the download script
    std::string manifest_text;         // verify against this (empty: the host's saved manifest)
    int jobs = 0;
    SetupLineFn on_line;
    const std::atomic<bool>* stop = nullptr;
};

struct SetupCheckpointsResult {
    int script_exit = 0;
    bool token_used = false;
    std::optional<VerifyOutcome> verified;             // when a manifest was there to check against
    std::size_t files = 0;                             // files under the checkpoint dir afterwards
    std::vector<std::string> missing_reference_files;  // reference files absent afterwards
};

// Runs `python3 scripts/download_checkpoints.py --output_dir <checkpoint_dir> [--model M]` in the
// host's checkout with HF_TOKEN passed through a 0600 env file that the command deletes before
// the script starts (never a command line). The script exits 0 even when downloads failed, so
// the files are checked afterwards: against the manifest when there is one (recorded as the
// host's verify), else by listing which of the model contract's files are absent.
core::Result<SetupCheckpointsResult> setup_checkpoints(const App& app,
                                                       const config::HostConfig& host,
                                                       const SetupCheckpointsOptions& options);

}  // namespace cosmos::services
