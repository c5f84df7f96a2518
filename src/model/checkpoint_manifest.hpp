#pragma once
// Checkpoint manifests: the list of files under a host's checkpoint dir with their size and
// SHA-256 (and the Hugging Face repository each came from, where the contract names it), kept
// by users in version control and checked against hosts by `cosmos checkpoints verify`.
//
// Format (JSON, files sorted by path; see docs/supply-chain.md):
//   {"format": "cosmos-checkpoint-manifest", "version": 1,
//    "files": [{"path": "nvidia/Cosmos-Transfer1-7B/base_model.pt", "size": 123,
//               "sha256": "…", "repo": "nvidia/Cosmos-Transfer1-7B", "revision": null}, …]}

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"

namespace cosmos::model {

struct ManifestEntry {
    std::string path;  // relative to the checkpoint dir, '/'-separated
    std::uint64_t size = 0;
    std::string sha256;                   // lower-case hex
    std::optional<std::string> repo;      // e.g. nvidia/Cosmos-Transfer1-7B
    std::optional<std::string> revision;  // a commit or tag, when known
};

struct Manifest {
    std::vector<ManifestEntry> files;  // sorted by path, no duplicates
};

// The repository of the model contract's checkpoint list that `relative_path` lies in, if any.
std::optional<std::string> checkpoint_repo(std::string_view relative_path);

// The MD5 NVIDIA's download script checks for `relative_path`, when the contract lists one.
std::optional<std::string> reference_md5(std::string_view relative_path);

// The files the model contract's MD5 table lists (relative to the checkpoint dir).
std::vector<std::string> reference_md5_paths();

// True for paths a manifest leaves out: anything under a `.cache` directory (download
// metadata) and unfinished `*.part` / `*.incomplete` files.
bool ignored_checkpoint_path(std::string_view relative_path);

// Builds a manifest from hashed files (sorted; repo filled from checkpoint_repo()).
Manifest make_manifest(std::vector<ManifestEntry> files);

nlohmann::ordered_json manifest_json(const Manifest& manifest);

// Parses a manifest; fails with invalid_input naming what is wrong (bad JSON, missing field,
// a path that is absolute or has "..", a malformed sha256, a duplicate path).
core::Result<Manifest> parse_manifest(std::string_view text);

struct ChangedFile {
    std::string path;
    std::uint64_t expected_size = 0;
    std::uint64_t actual_size = 0;
    std::string expected_sha256;
    std::string actual_sha256;
};

struct ManifestDiff {
    std::vector<std::string> missing;  // in the manifest, not on the host
    std::vector<std::string> extra;    // on the host, not in the manifest
    std::vector<ChangedFile> changed;  // size or hash differ
    std::size_t matched = 0;

    bool ok() const { return missing.empty() && extra.empty() && changed.empty(); }
};

// Compares what a host has (`actual`) with what it should have (`expected`).
ManifestDiff diff_manifests(const Manifest& expected, const Manifest& actual);

// One line per problem: "missing PATH", "extra PATH", "changed PATH (size A → B, sha256 …)".
std::vector<std::string> describe_diff(const ManifestDiff& diff);

}  // namespace cosmos::model
