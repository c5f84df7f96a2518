// Batch compatibility, batch lines and the batch spec (see batch_file.hpp).

#include "model/batch_file.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/sha256.hpp"

namespace cosmos::model {

using core::ErrorCode;
using core::fail;

namespace {

// The per-run parts of a spec removed, what must be equal across a batch kept.
nlohmann::ordered_json shared_part(const nlohmann::ordered_json& spec) {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (const auto& [key, value] : spec.items()) {
        if (key == "prompt") {
            continue;
        }
        if (key == "input_video_path") {
            out["has_input_video"] = value.is_string() && !value.get<std::string>().empty();
            continue;
        }
        if (value.is_object()) {
            nlohmann::ordered_json control = nlohmann::ordered_json::object();
            for (const auto& [k, v] : value.items()) {
                if (k == "control_weight") {
                    continue;
                }
                control[k] = k == "input_control" ? nlohmann::ordered_json(true) : v;
            }
            out[key] = control;
            continue;
        }
        out[key] = value;
    }
    return out;
}

}  // namespace

std::optional<std::string> batch_key(const BatchFacts& facts) {
    if (facts.kind != core::RunKind::transfer || !facts.spec.is_object()) {
        return std::nullopt;
    }
    auto offload = facts.params.offload;
    std::sort(offload.begin(), offload.end());
    // nlohmann::json (not ordered) sorts object keys: the digest does not depend on key order.
    nlohmann::json canonical = {
        {"spec", nlohmann::json::parse(shared_part(facts.spec).dump())},
        {"num_gpus", facts.params.num_gpus},
        {"offload", offload},
        {"size", {facts.width, facts.height}},
        {"frames", facts.frames},
    };
    if (!facts.params.extra_flags.empty()) {  // a user model's flags: part of the launch
        canonical["extra_flags"] = facts.params.extra_flags;
    }
    return "tb1:" + core::sha256_hex(canonical.dump()).substr(0, 20);
}

nlohmann::ordered_json batch_line(const nlohmann::ordered_json& spec) {
    nlohmann::ordered_json line = nlohmann::ordered_json::object();
    // A spec that is not an object, or a prompt that is not text, gives an empty line rather
    // than a json type_error (`value` throws on both).
    if (!spec.is_object()) {
        line["prompt"] = "";
        return line;
    }
    auto prompt = spec.find("prompt");
    line["prompt"] =
        prompt != spec.end() && prompt->is_string() ? prompt->get<std::string>() : std::string();
    if (spec.contains("input_video_path") && spec["input_video_path"].is_string()) {
        line["visual_input"] = spec["input_video_path"];
    }
    nlohmann::ordered_json overrides = nlohmann::ordered_json::object();
    for (const auto& [key, value] : spec.items()) {
        if (!value.is_object()) {
            continue;
        }
        nlohmann::ordered_json o = nlohmann::ordered_json::object();
        if (value.contains("control_weight")) {
            o["control_weight"] = value["control_weight"];
        }
        if (value.contains("input_control")) {
            o["input_control"] = value["input_control"];
        }
        overrides[key] = o;
    }
    if (!overrides.empty()) {
        line["control_overrides"] = overrides;
    }
    return line;
}

core::Result<nlohmann::ordered_json> batch_spec(const std::vector<BatchFacts>& runs) {
    if (runs.empty()) {
        return fail(ErrorCode::invalid_input, "a batch needs at least one run");
    }
    auto first = batch_key(runs.front());
    if (!first) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("a {} run cannot be batched", runs.front().kind));
    }
    for (std::size_t i = 1; i < runs.size(); ++i) {
        if (batch_key(runs[i]) != first) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("batch line {} is not compatible with line 0 (different "
                                    "modalities, scalar arguments, GPUs or input size)",
                                    i));
        }
    }
    return runs.front().spec;
}

std::string batch_output_video(int index) {
    return fmt::format("video_{}/output.mp4", index);
}

std::string batch_output_prompt(int index) {
    return fmt::format("video_{}/prompt.txt", index);
}

}  // namespace cosmos::model
