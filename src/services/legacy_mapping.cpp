#include "services/legacy_mapping.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/names.hpp"
#include "model/modality.hpp"
#include "services/prompt_checks.hpp"

namespace cosmos::services::legacy {

using core::ErrorCode;
using core::fail;
using nlohmann::json;

void Batch::skip(std::string source, std::string id, std::string kind, std::string reason) {
    skipped.push_back(ImportItem{
        std::move(source), std::move(id), std::move(kind), "skipped", std::move(reason)});
}

std::string forward_slashes(std::string_view path) {
    std::string out(path);
    std::replace(out.begin(), out.end(), '\\', '/');
    return out;
}

std::optional<std::string> normalise_timestamp(std::string_view text) {
    std::int64_t ms = core::ms_from_iso(text);
    if (ms < 0) {
        return std::nullopt;
    }
    return core::iso_from_ms(ms);
}

std::string created_at_from(const std::optional<std::string>& timestamp,
                            std::vector<std::string>& notes) {
    if (timestamp && !timestamp->empty()) {
        if (auto iso = normalise_timestamp(*timestamp)) {
            return *iso;
        }
        notes.push_back(
            fmt::format("timestamp '{}' not understood: the import time is used", *timestamp));
    } else {
        notes.emplace_back("no timestamp: the import time is used");
    }
    return core::now_iso();
}

std::string choose_name(const std::optional<std::string>& given,
                        std::string_view text,
                        std::vector<std::string>& notes) {
    if (!given || given->empty()) {
        std::string derived = core::derive_name(text);
        notes.push_back(fmt::format("no name: named '{}' after the prompt text", derived));
        return derived;
    }
    if (core::validate_name(*given)) {
        return *given;
    }
    std::string sanitised = core::sanitize_name(*given);
    if (sanitised.empty()) {
        sanitised = core::derive_name(text);
        notes.push_back(fmt::format(
            "name '{}' is not allowed: named '{}' after the prompt text", *given, sanitised));
    } else {
        notes.push_back(fmt::format("name '{}' sanitised to '{}'", *given, sanitised));
    }
    return sanitised;
}

core::Status check_imported_text(const store::PromptRecord& p, bool negative_given) {
    COSMOS_CHECK(check_prompt_text(p.prompt, "prompt text"));
    if (negative_given) {
        COSMOS_CHECK(check_prompt_text(p.negative_prompt, "negative prompt"));
    }
    return {};
}

core::Status set_input_video(store::PromptRecord& p, std::string_view path, std::string_view what) {
    std::string video = forward_slashes(path);
    COSMOS_CHECK(check_input_video_path(video, what));
    p.input_video = std::move(video);
    return {};
}

core::Result<json> parse_json(std::string_view text) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e400
        // Drop nlohmann's "[json.exception.parse_error.101] " tag, keep the position.
        std::string what = e.what();
        auto end = what.find("] ");
        if (what.rfind("[json.exception", 0) == 0 && end != std::string::npos) {
            what.erase(0, end + 2);
        }
        return fail(ErrorCode::invalid_input, what);
    }
}

std::optional<std::string> control_modality(std::string_view key) {
    return model::modality_for_stem(key);
}

core::Status add_control(std::map<std::string, std::string>& controls,
                         std::string_view key,
                         std::string_view path) {
    auto modality = control_modality(key);
    if (!modality) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("unknown control modality '{}'", key),
                    "controls: depth, seg (or segmentation), edge, vis, keypoint, hdmap, lidar");
    }
    std::string p = forward_slashes(path);
    COSMOS_CHECK(check_input_video_path(p, fmt::format("the {} control video", key)));
    auto [it, inserted] = controls.emplace(*modality, p);
    if (!inserted && it->second != p) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format(
                "two different {} control videos: '{}' and '{}'", *modality, it->second, p));
    }
    return {};
}

namespace {

const json* find(const json& obj, std::string_view key) {
    if (!obj.is_object()) {
        return nullptr;
    }
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        return nullptr;
    }
    return &*it;
}

std::string field_name(std::string_view where, std::string_view key) {
    return where.empty() ? std::string(key) : fmt::format("{}.{}", where, key);
}

core::Unexpected type_error(std::string_view where,
                            std::string_view key,
                            std::string_view type,
                            const json& value) {
    return fail(ErrorCode::invalid_input,
                fmt::format("{} must be {}, got {}", field_name(where, key), type, value.dump()));
}

}  // namespace

core::Result<std::optional<std::string>> string_field(const json& obj,
                                                      std::string_view key,
                                                      std::string_view where) {
    const json* v = find(obj, key);
    if (v == nullptr) {
        return std::optional<std::string>{};
    }
    if (!v->is_string()) {
        return type_error(where, key, "a string", *v);
    }
    return std::optional<std::string>{v->get<std::string>()};
}

core::Result<std::optional<double>> number_field(const json& obj,
                                                 std::string_view key,
                                                 std::string_view where) {
    const json* v = find(obj, key);
    if (v == nullptr) {
        return std::optional<double>{};
    }
    if (!v->is_number()) {
        return type_error(where, key, "a number", *v);
    }
    return std::optional<double>{v->get<double>()};
}

core::Result<std::optional<std::int64_t>> integer_field(const json& obj,
                                                        std::string_view key,
                                                        std::string_view where) {
    const json* v = find(obj, key);
    if (v == nullptr) {
        return std::optional<std::int64_t>{};
    }
    if (v->is_number_unsigned()) {
        auto u = v->get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("{} {} is out of range", field_name(where, key), u));
        }
        return std::optional<std::int64_t>{static_cast<std::int64_t>(u)};
    }
    if (v->is_number_integer()) {
        return std::optional<std::int64_t>{v->get<std::int64_t>()};
    }
    if (v->is_number_float()) {
        double d = v->get<double>();
        if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.0e15) {
            return std::optional<std::int64_t>{static_cast<std::int64_t>(d)};
        }
    }
    return type_error(where, key, "an integer", *v);
}

namespace {

core::Status read_weights(const json& weights, std::string_view where, model::RunParams& p) {
    if (weights.is_null()) {
        return {};
    }
    if (!weights.is_object()) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} must be an object, got {}", where, weights.dump()));
    }
    for (const auto& item : weights.items()) {
        const std::string& key = item.key();
        auto modality = control_modality(key).value_or(key);
        COSMOS_TRY(auto w, number_field(weights, key, where));
        if (!w) {
            continue;  // null: no weight
        }
        if (auto s = model::check_weight(modality, *w); !s) {
            return fail(ErrorCode::invalid_input, fmt::format("{}: {}", where, s.error().message));
        }
        p.weights[modality] = *w;
    }
    return {};
}

// Reads an integer parameter, checks it with `check` and stores it in `out`.
template <class T>
core::Status read_integer(const json& params,
                          std::string_view key,
                          std::string_view where,
                          core::Status (*check)(std::int64_t),
                          T& out) {
    COSMOS_TRY(auto v, integer_field(params, key, where));
    if (v) {
        if (auto s = check(*v); !s) {
            return fail(ErrorCode::invalid_input, fmt::format("{}: {}", where, s.error().message));
        }
        out = static_cast<T>(*v);
    }
    return {};
}

core::Status read_number(const json& params,
                         std::string_view key,
                         std::string_view where,
                         core::Status (*check)(double),
                         double& out) {
    COSMOS_TRY(auto v, number_field(params, key, where));
    if (v) {
        if (auto s = check(*v); !s) {
            return fail(ErrorCode::invalid_input, fmt::format("{}: {}", where, s.error().message));
        }
        out = *v;
    }
    return {};
}

core::Status read_parameters(const json& params, std::string_view where, model::RunParams& p) {
    if (!params.is_null() && !params.is_object()) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} must be an object, got {}", where, params.dump()));
    }
    std::string_view guidance_key = "guidance";
    for (std::string_view alias : {"guidance", "guidance_scale", "cfg_scale"}) {
        if (find(params, alias) != nullptr) {
            guidance_key = alias;
            break;
        }
    }
    for (auto s : {read_integer(params, "num_steps", where, model::check_num_steps, p.num_steps),
                   read_number(params, guidance_key, where, model::check_guidance, p.guidance),
                   read_number(params, "sigma_max", where, model::check_sigma_max, p.sigma_max),
                   read_integer(params, "fps", where, model::check_fps, p.fps),
                   read_integer(params, "seed", where, model::check_seed, p.seed),
                   read_integer(params, "num_gpus", where, model::check_num_gpus, p.num_gpus)}) {
        if (!s) {
            return s;
        }
    }
    for (auto [key, out] :
         {std::pair<std::string_view, std::string*>{"blur_strength", &p.blur_strength},
          {"canny_threshold", &p.canny_threshold}}) {
        COSMOS_TRY(auto v, string_field(params, key, where));
        if (v) {
            *out = *v;
        }
    }
    return {};
}

}  // namespace

core::Result<model::RunParams> run_params_from(const json& weights,
                                               const json& params,
                                               std::string_view weights_where,
                                               std::string_view params_where) {
    model::RunParams p;
    if (auto s = read_weights(weights, weights_where, p); !s) {
        return fail(s.error());
    }
    if (auto s = read_parameters(params, params_where, p); !s) {
        return fail(s.error());
    }
    if (auto s = model::validate(p); !s) {
        return fail(s.error());
    }
    return p;
}

std::optional<MappedStatus> map_status(std::string_view legacy) {
    using store::RunStatus;
    if (legacy == "pending") {
        return MappedStatus{RunStatus::pending, std::nullopt, std::nullopt};
    }
    if (legacy == "queued") {
        return MappedStatus{RunStatus::pending,
                            std::nullopt,
                            "queued in the Python tool: imported as pending, not queued"};
    }
    if (legacy == "running" || legacy == "uploading" || legacy == "downloading") {
        return MappedStatus{
            RunStatus::failed,
            std::string(k_running_error),
            fmt::format("was {}: imported as failed, its outcome is unknown", legacy)};
    }
    if (legacy == "success" || legacy == "succeeded" || legacy == "completed") {
        return MappedStatus{RunStatus::succeeded, std::nullopt, std::nullopt};
    }
    if (legacy == "failed" || legacy == "error") {
        return MappedStatus{RunStatus::failed, std::nullopt, std::nullopt};
    }
    if (legacy == "cancelled" || legacy == "canceled") {
        return MappedStatus{RunStatus::cancelled, std::nullopt, std::nullopt};
    }
    return std::nullopt;
}

}  // namespace cosmos::services::legacy
