// Checkpoint manifests: building, (de)serialising and comparing them. The repository list and
// MD5 table are those of NVIDIA's download script (docs/models/transfer1.md, docs/supply-chain.md).

#include "model/checkpoint_manifest.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include <fmt/format.h>

namespace cosmos::model {

using core::ErrorCode;
using core::fail;

namespace {

// Transfer1's and Transfer2.5's (the latter as the emulator lays out its Hugging Face cache).
constexpr std::array<std::string_view, 14> k_repos = {
    "nvidia/Cosmos-Transfer2.5-2B",
    "nvidia/Cosmos-Predict2.5-2B",
    "nvidia/Cosmos-Reason1-7B",
    "nvidia/Cosmos-Transfer1-7B",
    "nvidia/Cosmos-Transfer1-7B-Sample-AV",
    "nvidia/Cosmos-Transfer1-7B-Sample-AV-Single2MultiView",
    "nvidia/Cosmos-Tokenize1-CV8x8x8-720p",
    "nvidia/Cosmos-UpsamplePrompt1-12B-Transfer",
    "nvidia/Cosmos-Guardrail1",
    "facebook/sam2-hiera-large",
    "depth-anything/Depth-Anything-V2-Small-hf",
    "IDEA-Research/grounding-dino-tiny",
    "google-t5/t5-11b",
    "meta-llama/Llama-Guard-3-8B",
};

const std::map<std::string_view, std::string_view>& md5_table() {
    static const std::map<std::string_view, std::string_view> table = {
        {"nvidia/Cosmos-Transfer1-7B-Sample-AV/base_model.pt", "2006e158f8a17a3b801c661f0c01e9f2"},
        {"nvidia/Cosmos-Transfer1-7B-Sample-AV/hdmap_control.pt",
         "2ddd781560d221418c2ed9258b6ca829"},
        {"nvidia/Cosmos-Transfer1-7B-Sample-AV/lidar_control.pt",
         "184beee5414bcb6c0c5c0f09d8f8b481"},
        {"nvidia/Cosmos-Transfer1-7B/4kupscaler_control.pt", "b28378d13f323b49445dc469dfbbc317"},
        {"nvidia/Cosmos-Transfer1-7B/base_model.pt", "356497b415f3b0697f8bb034d22b6807"},
        {"nvidia/Cosmos-Transfer1-7B/vis_control.pt", "69fdffc5006bc5d6acb29449bb3ffdca"},
        {"nvidia/Cosmos-Transfer1-7B/edge_control.pt", "a0642e300e9e184077d875e1b5920a61"},
        {"nvidia/Cosmos-Transfer1-7B/edge_control_distilled.pt",
         "bf7def0bb5ffb5beff1f376d2404fcb4"},
        {"nvidia/Cosmos-Transfer1-7B/depth_control.pt", "80999ed60d89a8dfee785c544e0ccd54"},
        {"nvidia/Cosmos-Transfer1-7B/seg_control.pt", "3e4077a80c836bf102c7b2ac2cd5da8c"},
        {"nvidia/Cosmos-Transfer1-7B/keypoint_control.pt", "26619fb1686cff0e69606a9c97cac68e"},
        {"nvidia/Cosmos-Tokenize1-CV8x8x8-720p/autoencoder.jit",
         "7f658580d5cf617ee1a1da85b1f51f0d"},
        {"nvidia/Cosmos-Tokenize1-CV8x8x8-720p/decoder.jit", "ff21a63ed817ffdbe4b6841111ec79a8"},
        {"nvidia/Cosmos-Tokenize1-CV8x8x8-720p/encoder.jit", "f5834d03645c379bc0f8ad14b9bc0299"},
        {"nvidia/Cosmos-UpsamplePrompt1-12B-Transfer/consolidated.safetensors",
         "d06e6366e003126dcb351ce9b8bf3701"},
        {"nvidia/Cosmos-Guardrail1/video_content_safety_filter/safety_filter.pt",
         "b46dc2ad821fc3b0d946549d7ade19cf"},
        {"nvidia/Cosmos-Transfer1-7B-Sample-AV-Single2MultiView/t2w_hdmap_control.pt",
         "4f8a4340d48ebedaa9e7bab772e0203d"},
        {"nvidia/Cosmos-Transfer1-7B-Sample-AV-Single2MultiView/v2w_hdmap_control.pt",
         "89b82db1bc1dc859178154f88b6ca0f2"},
        {"nvidia/Cosmos-Transfer1-7B-Sample-AV-Single2MultiView/t2w_lidar_control.pt",
         "a9592d232a7e5f7971f39918c18eaae0"},
        {"nvidia/Cosmos-Transfer1-7B-Sample-AV-Single2MultiView/v2w_lidar_control.pt",
         "cb27af88ec7fb425faec32f4734d99cf"},
        {"nvidia/Cosmos-Transfer1-7B-Sample-AV-Single2MultiView/t2w_base_model.pt",
         "a3fb13e8418d8bb366b58e4092bd91df"},
        {"nvidia/Cosmos-Transfer1-7B-Sample-AV-Single2MultiView/v2w_base_model.pt",
         "48b2080ca5be66c05fac44dea4989a04"},
    };
    return table;
}

bool is_hex(std::string_view s, std::size_t length) {
    return s.size() == length && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

bool safe_relative(std::string_view path) {
    if (path.empty() || path.front() == '/' || path.find('\0') != std::string_view::npos) {
        return false;
    }
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        std::string_view part = path.substr(start, end - start);
        if (part.empty() || part == "." || part == "..") {
            return false;
        }
        start = end + 1;
    }
    return true;
}

}  // namespace

std::optional<std::string> checkpoint_repo(std::string_view relative_path) {
    std::optional<std::string> best;
    for (auto repo : k_repos) {
        if (relative_path.size() > repo.size() && relative_path.substr(0, repo.size()) == repo &&
            relative_path[repo.size()] == '/' && (!best || repo.size() > best->size())) {
            best = std::string(repo);
        }
    }
    return best;
}

std::optional<std::string> reference_md5(std::string_view relative_path) {
    auto it = md5_table().find(relative_path);
    if (it == md5_table().end()) {
        return std::nullopt;
    }
    return std::string(it->second);
}

std::vector<std::string> reference_md5_paths() {
    std::vector<std::string> out;
    for (const auto& [path, md5] : md5_table()) {
        out.emplace_back(path);
    }
    return out;
}

bool ignored_checkpoint_path(std::string_view p) {
    auto ends_with = [&](std::string_view suffix) {
        return p.size() >= suffix.size() && p.substr(p.size() - suffix.size()) == suffix;
    };
    return p.substr(0, 7) == ".cache/" || p.find("/.cache/") != std::string_view::npos ||
           ends_with(".part") || ends_with(".incomplete");
}

Manifest make_manifest(std::vector<ManifestEntry> files) {
    std::sort(
        files.begin(), files.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
    for (auto& f : files) {
        if (!f.repo) {
            f.repo = checkpoint_repo(f.path);
        }
    }
    return Manifest{std::move(files)};
}

nlohmann::ordered_json manifest_json(const Manifest& manifest) {
    nlohmann::ordered_json files = nlohmann::ordered_json::array();
    for (const auto& f : manifest.files) {
        nlohmann::ordered_json e;
        e["path"] = f.path;
        e["size"] = f.size;
        e["sha256"] = f.sha256;
        e["repo"] = f.repo ? nlohmann::ordered_json(*f.repo) : nlohmann::ordered_json();
        e["revision"] = f.revision ? nlohmann::ordered_json(*f.revision) : nlohmann::ordered_json();
        files.push_back(std::move(e));
    }
    nlohmann::ordered_json j;
    j["format"] = "cosmos-checkpoint-manifest";
    j["version"] = 1;
    j["files"] = std::move(files);
    return j;
}

core::Result<Manifest> parse_manifest(std::string_view text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    const char* hint = "write one with: cosmos checkpoints manifest --host H -o FILE";
    if (j.is_discarded() || !j.is_object()) {
        return fail(ErrorCode::invalid_input, "the manifest is not a JSON object", hint);
    }
    if (j.value("format", "") != "cosmos-checkpoint-manifest" || !j.contains("version") ||
        !j["version"].is_number_integer() || j["version"].get<int>() != 1) {
        return fail(ErrorCode::invalid_input,
                    "the manifest is not a version 1 cosmos-checkpoint-manifest",
                    hint);
    }
    if (!j.contains("files") || !j["files"].is_array()) {
        return fail(ErrorCode::invalid_input, "the manifest has no \"files\" array", hint);
    }
    std::vector<ManifestEntry> files;
    std::set<std::string> seen;
    std::size_t index = 0;
    for (const auto& e : j["files"]) {
        auto bad = [&](std::string_view what) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("manifest file entry {}: {}", index, what),
                        hint);
        };
        if (!e.is_object() || !e.contains("path") || !e["path"].is_string() ||
            !e.contains("size") || !e["size"].is_number_unsigned() || !e.contains("sha256") ||
            !e["sha256"].is_string()) {
            return bad("needs \"path\" (string), \"size\" (integer) and \"sha256\" (string)");
        }
        ManifestEntry f;
        f.path = e["path"].get<std::string>();
        f.size = e["size"].get<std::uint64_t>();
        f.sha256 = e["sha256"].get<std::string>();
        if (!safe_relative(f.path)) {
            return bad(fmt::format("path '{}' must be relative, without '.' or '..'", f.path));
        }
        if (!is_hex(f.sha256, 64)) {
            return bad(fmt::format("sha256 of {} is not 64 lower-case hex digits", f.path));
        }
        if (!seen.insert(f.path).second) {
            return bad(fmt::format("{} is listed twice", f.path));
        }
        if (e.contains("repo") && e["repo"].is_string()) {
            f.repo = e["repo"].get<std::string>();
        }
        if (e.contains("revision") && e["revision"].is_string()) {
            f.revision = e["revision"].get<std::string>();
        }
        files.push_back(std::move(f));
        ++index;
    }
    return make_manifest(std::move(files));
}

ManifestDiff diff_manifests(const Manifest& expected, const Manifest& actual) {
    std::map<std::string_view, const ManifestEntry*> have;
    for (const auto& f : actual.files) {
        have[f.path] = &f;
    }
    ManifestDiff diff;
    for (const auto& want : expected.files) {
        auto it = have.find(want.path);
        if (it == have.end()) {
            diff.missing.push_back(want.path);
            continue;
        }
        const ManifestEntry& got = *it->second;
        if (got.size != want.size || got.sha256 != want.sha256) {
            diff.changed.push_back(
                ChangedFile{want.path, want.size, got.size, want.sha256, got.sha256});
        } else {
            ++diff.matched;
        }
        have.erase(it);
    }
    for (const auto& [path, entry] : have) {
        diff.extra.emplace_back(path);
    }
    return diff;
}

std::vector<std::string> describe_diff(const ManifestDiff& diff) {
    std::vector<std::string> lines;
    for (const auto& p : diff.missing) {
        lines.push_back("missing " + p);
    }
    for (const auto& c : diff.changed) {
        lines.push_back(fmt::format("changed {} (size {} → {}, sha256 {} → {})",
                                    c.path,
                                    c.expected_size,
                                    c.actual_size,
                                    c.expected_sha256.substr(0, 12),
                                    c.actual_sha256.substr(0, 12)));
    }
    for (const auto& p : diff.extra) {
        lines.push_back("extra " + p);
    }
    return lines;
}

}  // namespace cosmos::model
