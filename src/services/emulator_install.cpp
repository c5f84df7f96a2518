#include "services/emulator_install.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <system_error>

#include <fmt/format.h>

#include "core/embedded_scripts.hpp"
#include "core/read_file.hpp"
#include "core/sha256.hpp"

namespace cosmos::services {

namespace fs = std::filesystem;

namespace {

constexpr const char* k_transfer_script = "cosmos_transfer1/diffusion/inference/transfer.py";

constexpr const char* k_upsampler_script =
    "cosmos_transfer1/auxiliary/upsampler/inference/upsampler_pipeline.py";

constexpr const char* k_transfer25_script = "examples/inference.py";

// The sh wrappers installed at those three paths are
// src/services/scripts/emulator-{transfer,upsampler,transfer25}-wrapper.sh.

// The wrapper of bin/<mode>: runs the emulator's mode of the same name.
std::string bin_wrapper(std::string_view mode) {
    return fmt::format(R"sh(#!/bin/sh
# Emulated {0} (cosmos-emulator; see docs/emulator.md).
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd) || exit 1
exec "$here/../.emulator/cosmos-emulator" {0} "$@"
)sh",
                       mode);
}

core::Unexpected io_error(const fs::path& path, std::string_view what, std::string_view why) {
    return core::fail(core::ErrorCode::io,
                      fmt::format("cannot {} {}: {}", what, path.string(), why),
                      "check the permissions and free space of the emulator directory");
}

// Returns what the installed file holds, or std::nullopt when it can't be read (then it is
// written anew).
std::optional<std::string> read_text(const fs::path& path) {
    auto text = core::read_file(path, core::kManifestFileMax, "emulator file");
    if (!text) {
        return std::nullopt;
    }
    return *std::move(text);
}

// Writes `content` to `path` unless it already holds exactly that; sets the mode.
core::Status write_file(const fs::path& path, const std::string& content, fs::perms mode) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
        return io_error(path.parent_path(), "create", ec.message());
    }
    if (read_text(path) != content) {
        fs::path tmp = path;
        tmp += ".tmp";
        {
            std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
            out << content;
            if (!out.flush()) {
                return io_error(tmp, "write", "write failed");
            }
        }
        fs::rename(tmp, path, ec);
        if (ec) {
            return io_error(path, "write", ec.message());
        }
    }
    fs::permissions(path, mode, ec);
    return ec ? io_error(path, "chmod", ec.message()) : core::Status{};
}

// Copies the binary (via a temporary name: the old copy may be running) unless VERSION says
// this exact binary is already installed.
core::Status install_binary(const fs::path& dir, const fs::path& binary) {
    COSMOS_TRY(std::string digest, core::sha256_file(binary));
    const std::string version =
        fmt::format("cosmos-emulator {}\nsha256 {}\n", COSMOS_VERSION, digest);
    const fs::path target = dir / ".emulator" / "cosmos-emulator";
    const fs::path marker = dir / ".emulator" / "VERSION";
    std::error_code ec;
    if (read_text(marker) == version && fs::is_regular_file(target, ec)) {
        auto installed = core::sha256_file(target);
        if (installed && *installed == digest) {
            return {};
        }
    }
    fs::create_directories(target.parent_path(), ec);
    fs::path tmp = target;
    tmp += ".tmp";
    fs::copy_file(binary, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec) {
        return io_error(tmp, "copy the emulator to", ec.message());
    }
    fs::permissions(tmp, fs::perms(0755), ec);
    fs::rename(tmp, target, ec);
    if (ec) {
        return io_error(target, "install", ec.message());
    }
    return write_file(marker, version, fs::perms(0644));
}

core::Status install_checkpoints(const fs::path& dir) {
    std::vector<std::string> files = emulated_checkpoint_files();
    for (const std::string& rel : emulated_transfer25_checkpoint_files()) {
        if (std::find(files.begin(), files.end(), rel) == files.end()) {
            files.push_back(rel);
        }
    }
    for (const std::string& rel : files) {
        core::Status st = write_file(dir / "checkpoints" / rel,
                                     fmt::format("cosmos-emulator placeholder: {}\n", rel),
                                     fs::perms(0644));
        if (!st) {
            return st;
        }
    }
    return {};
}

// A stand-in for the checkout's scripts/download_checkpoints.py (docs/emulator.md): same flags,
// writes the placeholder checkpoint files (the same bytes install_checkpoints writes), skips
// files already there, and, like the real script, prints errors but exits 0. Without a token
// (HF_TOKEN or --hf_token) every download fails, as the NVIDIA repositories are gated.
std::string download_script() {
    std::string files;
    for (const auto& rel : emulated_checkpoint_files()) {
        files += fmt::format("    \"{}\",\n", rel);
    }
    return fmt::format(R"PY(#!/usr/bin/env python3
# cosmos-emulator stand-in for Cosmos-Transfer1's scripts/download_checkpoints.py (docs/emulator.md).
import argparse
import os
import sys

FILES = [
{}]

parser = argparse.ArgumentParser()
parser.add_argument("--output_dir", default="checkpoints")
parser.add_argument("--model", default="all", choices=["all", "7b", "7b_av"])
parser.add_argument("--hf_token", default=None)
args = parser.parse_args()
token = args.hf_token or os.environ.get("HF_TOKEN")
for rel in FILES:
    av = "-Sample-AV" in rel
    if (args.model == "7b" and av) or (args.model == "7b_av" and rel.startswith("nvidia/Cosmos-Transfer1-7B/")):
        continue
    path = os.path.join(args.output_dir, rel)
    if os.path.exists(path):
        print(f"Skipping {{rel}}: already downloaded", flush=True)
        continue
    if not token:
        print(f"Error downloading {{rel}}: 401 Client Error: Unauthorized (gated repository, no token)", flush=True)
        continue
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".incomplete", "w") as f:
        f.write(f"cosmos-emulator placeholder: {{rel}}\n")
    os.replace(path + ".incomplete", path)
    print(f"Downloaded {{rel}}", flush=True)
print("Checkpoint downloading done.", flush=True)
sys.exit(0)  # like the real script: errors are printed, the exit status stays 0
)PY",
                       files);
}

}  // namespace

const std::vector<std::string>& emulated_checkpoint_files() {
    static const std::vector<std::string> files = {
        "nvidia/Cosmos-Transfer1-7B/base_model.pt",
        "nvidia/Cosmos-Transfer1-7B/vis_control.pt",
        "nvidia/Cosmos-Transfer1-7B/edge_control.pt",
        "nvidia/Cosmos-Transfer1-7B/edge_control_distilled.pt",
        "nvidia/Cosmos-Transfer1-7B/depth_control.pt",
        "nvidia/Cosmos-Transfer1-7B/seg_control.pt",
        "nvidia/Cosmos-Transfer1-7B/keypoint_control.pt",
        "nvidia/Cosmos-Transfer1-7B/4kupscaler_control.pt",
        "nvidia/Cosmos-Transfer1-7B-Sample-AV/base_model.pt",
        "nvidia/Cosmos-Transfer1-7B-Sample-AV/hdmap_control.pt",
        "nvidia/Cosmos-Transfer1-7B-Sample-AV/lidar_control.pt",
        "nvidia/Cosmos-Tokenize1-CV8x8x8-720p/autoencoder.jit",
        "nvidia/Cosmos-Tokenize1-CV8x8x8-720p/decoder.jit",
        "nvidia/Cosmos-Tokenize1-CV8x8x8-720p/encoder.jit",
        "nvidia/Cosmos-UpsamplePrompt1-12B-Transfer/consolidated.safetensors",
        "nvidia/Cosmos-Guardrail1/video_content_safety_filter/safety_filter.pt",
    };
    return files;
}

const std::vector<std::string>& emulated_transfer25_checkpoint_files() {
    static const std::vector<std::string> files = {
        "nvidia/Cosmos-Transfer2.5-2B/general/edge/"
        "61f5694b-0ad5-4ecd-8ad7-c8545627d125_ema_bf16.pt",
        "nvidia/Cosmos-Transfer2.5-2B/general/depth/"
        "626e6618-bfcd-4d9a-a077-1409e2ce353f_ema_bf16.pt",
        "nvidia/Cosmos-Transfer2.5-2B/general/seg/"
        "5136ef49-6d8d-42e8-8abf-7dac722a304a_ema_bf16.pt",
        "nvidia/Cosmos-Transfer2.5-2B/general/blur/"
        "ba2f44f2-c726-4fe7-949f-597069d9b91c_ema_bf16.pt",
        "nvidia/Cosmos-Transfer2.5-2B/distilled/general/edge/"
        "41f07f13-f2e4-4e34-ba4c-86f595acbc20_ema_bf16.pt",
        "nvidia/Cosmos-Predict2.5-2B/tokenizer.pth",
        "nvidia/Cosmos-Reason1-7B/config.json",
        "nvidia/Cosmos-Guardrail1/video_content_safety_filter/safety_filter.pt",
    };
    return files;
}

core::Result<fs::path> find_emulator_binary() {
    std::error_code ec;
    if (const char* given = std::getenv("COSMOS_EMULATOR_BIN"); given != nullptr && *given) {
        if (!fs::is_regular_file(given, ec)) {
            return core::fail(core::ErrorCode::not_found,
                              fmt::format("COSMOS_EMULATOR_BIN names no file: {}", given),
                              "point COSMOS_EMULATOR_BIN at the built cosmos-emulator binary");
        }
        return fs::path(given);
    }
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    fs::path beside = self.parent_path() / "cosmos-emulator";
    if (!ec && fs::is_regular_file(beside, ec)) {
        return beside;
    }
    return core::fail(core::ErrorCode::not_found,
                      fmt::format("cosmos-emulator not found beside {}", self.string()),
                      "build the cosmos-emulator target (installed next to cosmos) or set "
                      "COSMOS_EMULATOR_BIN");
}

core::Status install_emulator(const fs::path& dir, const fs::path& emulator_binary) {
    std::error_code ec;
    if (!fs::is_regular_file(emulator_binary, ec)) {
        return core::fail(core::ErrorCode::not_found,
                          fmt::format("emulator binary not found: {}", emulator_binary.string()),
                          "build the cosmos-emulator target or set COSMOS_EMULATOR_BIN");
    }
    const auto exec = fs::perms(0755);
    const std::function<core::Status()> steps[] = {
        [&] { return install_binary(dir, emulator_binary); },
        [&] { return write_file(dir / "cosmos_transfer1" / "__init__.py", "", fs::perms(0644)); },
        [&] {
            return write_file(
                dir / k_transfer_script, std::string(scripts::k_emulator_transfer_wrapper), exec);
        },
        [&] {
            return write_file(
                dir / k_upsampler_script, std::string(scripts::k_emulator_upsampler_wrapper), exec);
        },
        [&] {
            return write_file(dir / k_transfer25_script,
                              std::string(scripts::k_emulator_transfer25_wrapper),
                              exec);
        },
        [&] { return write_file(dir / "bin" / "torchrun", bin_wrapper("torchrun"), exec); },
        [&] { return write_file(dir / "bin" / "nvidia-smi", bin_wrapper("nvidia-smi"), exec); },
        [&] { return write_file(dir / "bin" / "vllm", bin_wrapper("vllm"), exec); },
        [&] { return write_file(dir / "bin" / "sglang", bin_wrapper("sglang"), exec); },
        [&] { return install_checkpoints(dir); },
        [&] {
            return write_file(dir / "scripts" / "download_checkpoints.py", download_script(), exec);
        },
    };
    for (const auto& step : steps) {
        core::Status st = step();
        if (!st) {
            return st;
        }
    }
    return {};
}

}  // namespace cosmos::services
