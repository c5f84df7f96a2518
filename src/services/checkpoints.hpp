#pragma once
// Checkpoint manifests and verification for hosts and local directories, and the rule runs obey
// before they start. What each verify saw is kept in a state file per target under
// <data_dir>/checkpoints/ (see docs/supply-chain.md):
//   <key>.state.json     last verify: ok, problems, the newest checkpoint mtime it saw, and the
//                        (path, size, mtime, sha256) of every file, so the next pass re-reads
//                        only files whose size or mtime changed
//   <key>.manifest.json  the manifest `cosmos checkpoints manifest` last wrote for the target
//                        (what `verify` checks against when no --manifest is given)
// <key> is "host-<name>" for a host and "dir-<first 16 hex of sha256(abs path)>" for --local.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "backends/checkpoint_hash.hpp"
#include "config/config.hpp"
#include "core/result.hpp"
#include "model/checkpoint_manifest.hpp"
#include "services/app.hpp"

namespace cosmos::services {

// A checkpoint tree: a configured host's checkpoint dir, or a local directory.
struct CheckpointTarget {
    std::optional<config::HostConfig> host;  // set: the host's checkpoint dir
    std::filesystem::path local_dir;         // used when `host` is empty
};

struct VerifyState {
    bool ok = false;
    std::string verified_at;            // ISO time of the verify
    std::string dir;                    // the checkpoint dir it looked at
    std::int64_t newest_mtime_ns = 0;   // newest checkpoint file it saw
    std::string manifest_sha256;        // of the manifest text checked against
    std::vector<std::string> problems;  // describe_diff() lines
    backends::HashCache files;          // every file as last hashed
};

// "host-NAME" or "dir-<hash>".
std::string target_key(const CheckpointTarget& target);

// The state of `target`'s last verify or manifest pass; nullopt when there is none.
core::Result<std::optional<VerifyState>> load_verify_state(const App& app,
                                                           const CheckpointTarget& target);

struct HashOutcome {
    std::string dir;  // the checkpoint dir hashed (absolute, on the host for hosts)
    backends::HashReport report;
};

// Hashes `target`'s checkpoint dir (incrementally), with `jobs` parallel workers (0: the host's
// or this machine's core count), and returns its manifest. Keeps the hashes for the next pass
// and the manifest as the target's default manifest.
core::Result<std::pair<model::Manifest, HashOutcome>> build_manifest(const App& app,
                                                                     const CheckpointTarget& target,
                                                                     int jobs);

struct VerifyOutcome {
    model::ManifestDiff diff;
    HashOutcome hashed;
    std::vector<std::string> md5_listed;  // files the model contract lists an MD5 for (not checked)
    bool ok() const { return diff.ok(); }
};

// Checks `target` against `manifest_text` (empty: the target's saved manifest; not_found when
// there is none) and records the outcome for the run gate. A failed verify is not an error here:
// see VerifyOutcome::ok().
core::Result<VerifyOutcome> verify_checkpoints(const App& app,
                                               const CheckpointTarget& target,
                                               const std::string& manifest_text,
                                               int jobs);

// The gate runs pass before they start on `host`: fails with conflict when the host's last
// verify failed, when a checkpoint changed after it, or when the host has `require_verified`
// and was never verified. Hosts never verified pass otherwise.
core::Status check_checkpoints_verified(const App& app, const config::HostConfig& host);

}  // namespace cosmos::services
