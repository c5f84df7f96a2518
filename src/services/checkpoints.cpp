// Checkpoint manifests and verification, the per-target state files, and the run gate.

#include "services/checkpoints.hpp"

#include <fstream>
#include <thread>

#include <unistd.h>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/read_file.hpp"
#include "core/sha256.hpp"
#include "core/temp_name.hpp"
#include "scheduler/job.hpp"

namespace cosmos::services {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

namespace {

fs::path state_dir(const App& app) {
    return app.data_dir() / "checkpoints";
}

core::Status write_atomic(const fs::path& path, const std::string& text) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    fs::path tmp = core::temp_sibling(path.string());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        if (!out) {
            return fail(ErrorCode::io, fmt::format("cannot write {}", tmp.string()));
        }
    }
    fs::rename(tmp, path, ec);
    if (ec) {
        return fail(ErrorCode::io, fmt::format("cannot write {}: {}", path.string(), ec.message()));
    }
    return {};
}

// Returns the saved state or manifest at `path`, or std::nullopt when there is none.
core::Result<std::optional<std::string>> read_text(const fs::path& path) {
    auto text = core::read_file(path, core::kManifestFileMax, "checkpoint manifest");
    if (!text) {
        if (text.error().code == ErrorCode::not_found) {
            return std::optional<std::string>();
        }
        return fail(std::move(text).error());
    }
    return std::optional<std::string>(*std::move(text));
}

nlohmann::json state_json(const VerifyState& st) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& [path, f] : st.files) {
        files.push_back(
            {{"path", f.path}, {"size", f.size}, {"mtime_ns", f.mtime_ns}, {"sha256", f.sha256}});
    }
    return {{"ok", st.ok},
            {"verified_at", st.verified_at},
            {"dir", st.dir},
            {"newest_mtime_ns", st.newest_mtime_ns},
            {"manifest_sha256", st.manifest_sha256},
            {"problems", st.problems},
            {"files", files}};
}

core::Status save_state(const App& app, const CheckpointTarget& target, const VerifyState& st) {
    return write_atomic(state_dir(app) / (target_key(target) + ".state.json"),
                        state_json(st).dump(1) + "\n");
}

// The directory and the hashing function of `target`.
struct Tree {
    std::string dir;
    std::shared_ptr<transport::Shell> shell;  // empty: local
};

core::Result<Tree> open_tree(const CheckpointTarget& target) {
    if (!target.host) {
        std::error_code ec;
        return Tree{fs::absolute(target.local_dir, ec).lexically_normal().string(), nullptr};
    }
    const auto& host = *target.host;
    if (host.kind != core::HostKind::local) {
        COSMOS_TRY(auto remote, scheduler::open_host(host));
        return Tree{remote.checkpoint_dir, remote.shell};
    }
    if (host.kind != core::HostKind::local) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format(
                "host {} is of kind {}, which this build cannot verify", host.name, host.kind));
    }
    fs::path dir =
        host.checkpoint_dir.empty() ? host.cosmos_dir / "checkpoints" : host.checkpoint_dir;
    return Tree{dir.string(), nullptr};
}

int default_jobs(int jobs) {
    if (jobs > 0) {
        return jobs;
    }
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

core::Result<HashOutcome> hash_target(const App& app,
                                      const CheckpointTarget& target,
                                      int jobs,
                                      VerifyState& state) {
    COSMOS_TRY(auto tree, open_tree(target));
    COSMOS_TRY(auto previous, load_verify_state(app, target));
    backends::HashCache cache;
    if (previous && previous->dir == tree.dir) {
        cache = previous->files;
        state = *previous;
    }
    backends::HashReport report;
    if (tree.shell) {
        // The host's cores: sha256sum runs there. nproc is constant, no paths involved.
        int n = jobs;
        if (n <= 0) {
            auto r = tree.shell->run({"nproc"});
            n = r && r->exit_code == 0 ? std::max(1, std::atoi(r->out.c_str())) : 4;
        }
        COSMOS_TRY(report, backends::hash_tree(*tree.shell, tree.dir, cache, n));
    } else {
        COSMOS_TRY(report, backends::hash_local_tree(tree.dir, cache, default_jobs(jobs)));
    }
    state.dir = tree.dir;
    state.files.clear();
    for (const auto& f : report.files) {
        state.files[f.path] = f;
    }
    return HashOutcome{tree.dir, std::move(report)};
}

model::Manifest manifest_of(const backends::HashReport& report) {
    std::vector<model::ManifestEntry> files;
    for (const auto& f : report.files) {
        files.push_back(model::ManifestEntry{f.path, f.size, f.sha256, std::nullopt, std::nullopt});
    }
    return model::make_manifest(std::move(files));
}

}  // namespace

std::string target_key(const CheckpointTarget& target) {
    if (target.host) {
        return "host-" + target.host->name;
    }
    std::error_code ec;
    auto abs = fs::absolute(target.local_dir, ec).lexically_normal().string();
    return "dir-" + core::sha256_hex(abs).substr(0, 16);
}

core::Result<std::optional<VerifyState>> load_verify_state(const App& app,
                                                           const CheckpointTarget& target) {
    fs::path path = state_dir(app) / (target_key(target) + ".state.json");
    COSMOS_TRY(auto text, read_text(path));
    if (!text) {
        return std::optional<VerifyState>();
    }
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return fail(ErrorCode::io,
                    fmt::format("{} is damaged", path.string()),
                    "delete it and run cosmos checkpoints verify again");
    }
    try {
        VerifyState st;
        st.ok = j.at("ok").get<bool>();
        st.verified_at = j.at("verified_at").get<std::string>();
        st.dir = j.at("dir").get<std::string>();
        st.newest_mtime_ns = j.at("newest_mtime_ns").get<std::int64_t>();
        st.manifest_sha256 = j.at("manifest_sha256").get<std::string>();
        st.problems = j.at("problems").get<std::vector<std::string>>();
        for (const auto& f : j.at("files")) {
            backends::HashedFile h{f.at("path").get<std::string>(),
                                   f.at("size").get<std::uint64_t>(),
                                   f.at("mtime_ns").get<std::int64_t>(),
                                   f.at("sha256").get<std::string>()};
            st.files[h.path] = h;
        }
        return std::optional<VerifyState>(std::move(st));
    } catch (const nlohmann::json::exception&) {
        return fail(ErrorCode::io,
                    fmt::format("{} is damaged", path.string()),
                    "delete it and run cosmos checkpoints verify again");
    }
}

core::Result<std::pair<model::Manifest, HashOutcome>> build_manifest(const App& app,
                                                                     const CheckpointTarget& target,
                                                                     int jobs) {
    VerifyState state;
    COSMOS_TRY(auto hashed, hash_target(app, target, jobs, state));
    model::Manifest manifest = manifest_of(hashed.report);
    // Only the hash cache changes: the last verify's verdict stays what it was.
    if (auto s = save_state(app, target, state); !s) {
        return fail(s.error());
    }
    if (auto s = write_atomic(state_dir(app) / (target_key(target) + ".manifest.json"),
                              model::manifest_json(manifest).dump(2) + "\n");
        !s) {
        return fail(s.error());
    }
    return std::pair{std::move(manifest), std::move(hashed)};
}

core::Result<VerifyOutcome> verify_checkpoints(const App& app,
                                               const CheckpointTarget& target,
                                               const std::string& manifest_text,
                                               int jobs) {
    std::string text = manifest_text;
    if (text.empty()) {
        fs::path saved = state_dir(app) / (target_key(target) + ".manifest.json");
        COSMOS_TRY(auto found, read_text(saved));
        if (!found) {
            return fail(ErrorCode::not_found,
                        "no manifest to verify against",
                        "pass --manifest FILE, or write one with cosmos checkpoints manifest");
        }
        text = std::move(*found);
    }
    COSMOS_TRY(auto expected, model::parse_manifest(text));
    VerifyState state;
    COSMOS_TRY(auto hashed, hash_target(app, target, jobs, state));
    VerifyOutcome outcome;
    outcome.diff = model::diff_manifests(expected, manifest_of(hashed.report));
    for (const auto& f : expected.files) {
        if (model::reference_md5(f.path)) {
            outcome.md5_listed.push_back(f.path);
        }
    }
    state.ok = outcome.diff.ok();
    state.verified_at = core::now_iso();
    state.newest_mtime_ns = hashed.report.newest_mtime_ns;
    state.manifest_sha256 = core::sha256_hex(text);
    state.problems = model::describe_diff(outcome.diff);
    if (auto s = save_state(app, target, state); !s) {
        return fail(s.error());
    }
    outcome.hashed = std::move(hashed);
    return outcome;
}

core::Status check_checkpoints_verified(const App& app, const config::HostConfig& host) {
    CheckpointTarget target{host, {}};
    COSMOS_TRY(auto state, load_verify_state(app, target));
    std::string hint = fmt::format(
        "run cosmos checkpoints verify --host {} (or pass --skip-verify, which is recorded on "
        "the run)",
        host.name);
    if (!state || state->verified_at.empty()) {
        if (host.require_verified) {
            return fail(ErrorCode::conflict,
                        fmt::format("host {} requires verified checkpoints and was never verified",
                                    host.name),
                        hint);
        }
        return {};
    }
    if (!state->ok) {
        std::string first =
            state->problems.empty() ? std::string("") : ": " + state->problems.front();
        return fail(ErrorCode::conflict,
                    fmt::format("the last checkpoint verify of host {} ({}) failed with {} "
                                "problem(s){}",
                                host.name,
                                state->verified_at,
                                state->problems.size(),
                                first),
                    hint);
    }
    COSMOS_TRY(auto tree, open_tree(target));
    std::int64_t newest = 0;
    if (tree.shell) {
        COSMOS_TRY(newest, backends::newest_mtime(*tree.shell, tree.dir));
    } else {
        newest = backends::newest_local_mtime(tree.dir);
    }
    if (newest > state->newest_mtime_ns || tree.dir != state->dir) {
        return fail(ErrorCode::conflict,
                    fmt::format("checkpoints on host {} changed after its last verify ({})",
                                host.name,
                                state->verified_at),
                    hint);
    }
    return {};
}

}  // namespace cosmos::services
