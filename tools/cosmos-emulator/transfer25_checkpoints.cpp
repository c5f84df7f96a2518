#include "transfer25_checkpoints.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "log.hpp"
#include "python_error.hpp"
#include "transfer25_log.hpp"

namespace cosmos::emulator {

namespace fs = std::filesystem;

namespace {

constexpr const char* k_repo = "nvidia/Cosmos-Transfer2.5-2B";

// Control key -> (folder in the repository, checkpoint UUID).
const std::vector<std::pair<std::string, std::pair<std::string, std::string>>> k_controls = {
    {"edge", {"general/edge", "61f5694b-0ad5-4ecd-8ad7-c8545627d125"}},
    {"depth", {"general/depth", "626e6618-bfcd-4d9a-a077-1409e2ce353f"}},
    {"seg", {"general/seg", "5136ef49-6d8d-42e8-8abf-7dac722a304a"}},
    {"vis", {"general/blur", "ba2f44f2-c726-4fe7-949f-597069d9b91c"}},
};
constexpr const char* k_distilled_edge =
    "distilled/general/edge/41f07f13-f2e4-4e34-ba4c-86f595acbc20_ema_bf16.pt";

std::string under_checkpoints(const std::string& repo, const std::string& file) {
    return "checkpoints/" + repo + "/" + file;
}

core::Result<std::string> control_file(const std::string& key, bool distilled) {
    if (distilled) {
        if (key != "edge") {
            std::string variant = key == "vis" ? "VIS" : key == "seg" ? "SEG" : "DEPTH";
            return raise_py(
                "KeyError",
                fmt::format(
                    "ModelKey(variant=<ModelVariant.{}: '{}'>, distilled=True)", variant, key),
                "main>Control2WorldInference>__init__");
        }
        return under_checkpoints(k_repo, k_distilled_edge);
    }
    for (const auto& [name, where] : k_controls) {
        if (name == key) {
            return under_checkpoints(k_repo, where.first + "/" + where.second + "_ema_bf16.pt");
        }
    }
    return raise_py("KeyError", py_repr(key), "main>Control2WorldInference>__init__");
}

// hf's own words for a gated repository without a token.
void print_download_failure(const std::string& repo, const std::string& file) {
    print_stderr(fmt::format(
        "huggingface_hub.errors.GatedRepoError: 401 Client Error. Cannot access gated repo for "
        "url https://huggingface.co/{}/resolve/main/{}.\nAccess to model {} is restricted. You "
        "must have access to it and be authenticated to access it. Please log in.\n",
        repo,
        file,
        repo));
}

}  // namespace

bool is_transfer25_checkpoint_uuid(const std::string& uri) {
    for (const auto& [name, where] : k_controls) {
        if (where.second == uri) {
            return true;
        }
    }
    return uri == "41f07f13-f2e4-4e34-ba4c-86f595acbc20";
}

core::Result<std::vector<std::string>> transfer25_checkpoints(const Checkpoints25Request& r) {
    std::vector<std::string> files;
    if (r.hint_keys.size() == 1 && !r.checkpoint_path.empty()) {
        files.push_back(r.checkpoint_path);
    } else {
        // one control: its checkpoint; several: the multicontrol model loads every control's
        const std::vector<std::string> all = {"edge", "vis", "depth", "seg"};
        for (const std::string& key : r.hint_keys.size() == 1 ? r.hint_keys : all) {
            COSMOS_TRY(std::string file, control_file(key, r.distilled));
            files.push_back(file);
        }
    }
    files.push_back(under_checkpoints("nvidia/Cosmos-Predict2.5-2B", "tokenizer.pth"));
    files.push_back(under_checkpoints("nvidia/Cosmos-Reason1-7B", "config.json"));
    if (r.guardrails) {
        files.push_back(under_checkpoints("nvidia/Cosmos-Guardrail1",
                                          "video_content_safety_filter/safety_filter.pt"));
    }
    return files;
}

core::Status fetch_transfer25_checkpoints(const std::vector<std::string>& files, Log25& log) {
    const char* token = std::getenv("HF_TOKEN");
    for (const std::string& file : files) {
        std::error_code ec;
        if (fs::is_regular_file(file, ec) || !file.starts_with("checkpoints/nvidia/")) {
            continue;  // present, or a --checkpoint-path file (checked when parsed)
        }
        std::string rel = file.substr(std::string("checkpoints/").size());
        std::string repo = rel.substr(0, rel.find('/', rel.find('/') + 1));
        std::string in_repo = rel.substr(repo.size() + 1);
        std::string command =
            fmt::format("uvx hf>=0.35 download {} --repo-type model {}", repo, in_repo);
        log.line(Level::info, sites25::k_checkpoint, command);
        if (token == nullptr || *token == '\0') {
            print_download_failure(repo, in_repo);
            return raise_py(
                "subprocess.CalledProcessError",
                fmt::format("Command '{}' returned non-zero exit status 1.", command),
                "main>Control2WorldInference>__init__>download_checkpoint>_hf_download");
        }
        fs::create_directories(fs::path(file).parent_path(), ec);
        std::ofstream(file) << "cosmos-emulator placeholder: " << rel << "\n";
    }
    return {};
}

}  // namespace cosmos::emulator
