#include "server_form.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

namespace cosmos::emulator {

namespace {

constexpr std::array<std::pair<int, int>, 3> k_tiers = {{{320, 192}, {832, 480}, {1280, 720}}};
constexpr int k_default_frames = 121;

core::Unexpected bad_param(std::string_view param, std::string message) {
    return core::fail(core::ErrorCode::invalid_input, std::move(message), std::string(param));
}

const std::string* find(const FormFields& fields, const char* name) {
    auto it = fields.find(name);
    return it == fields.end() ? nullptr : &it->second;
}

core::Status read_int(
    const FormFields& f, const char* name, std::int64_t lo, std::int64_t hi, std::int64_t& out) {
    const std::string* text = find(f, name);
    if (text == nullptr) {
        return {};
    }
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc() || end != text->data() + text->size()) {
        return bad_param(name, fmt::format("{} must be an integer, got '{}'", name, *text));
    }
    if (v < lo || v > hi) {
        return bad_param(name,
                         fmt::format("{} must be between {} and {}, got {}", name, lo, hi, v));
    }
    out = v;
    return {};
}

core::Status read_int32(const FormFields& f, const char* name, int lo, int hi, int& out) {
    std::int64_t v = out;
    COSMOS_CHECK(read_int(f, name, lo, hi, v));
    out = static_cast<int>(v);
    return {};
}

core::Status read_double(const FormFields& f, const char* name, double lo, double hi, double& out) {
    const std::string* text = find(f, name);
    if (text == nullptr) {
        return {};
    }
    char* end = nullptr;
    double v = std::strtod(text->c_str(), &end);
    if (text->empty() || end != text->c_str() + text->size() || !std::isfinite(v)) {
        return bad_param(name, fmt::format("{} must be a number, got '{}'", name, *text));
    }
    if (v < lo || v > hi) {
        return bad_param(name,
                         fmt::format("{} must be between {} and {}, got {}", name, lo, hi, v));
    }
    out = v;
    return {};
}

std::string tier_list() {
    return "320x192 (256p), 832x480 (480p) or 1280x720 (720p), landscape or portrait";
}

core::Status read_size(const FormFields& f, VideoParams& p) {
    if (const std::string* size = find(f, "size")) {
        int w = 0, h = 0;
        char tail = 0;
        if (std::sscanf(size->c_str(), "%dx%d%c", &w, &h, &tail) != 2 || !is_tier_size(w, h)) {
            return bad_param("size", fmt::format("size '{}' is not {}", *size, tier_list()));
        }
        p.width = w;
        p.height = h;
    }
    const bool has_w = find(f, "width") != nullptr, has_h = find(f, "height") != nullptr;
    if (!has_w && !has_h) {
        return {};
    }
    if (has_w != has_h) {
        const char* missing = has_w ? "height" : "width";
        return bad_param(
            missing, fmt::format("{} is required with {}", missing, has_w ? "width" : "height"));
    }
    int w = 0, h = 0;
    COSMOS_CHECK(read_int32(f, "width", 1, 8192, w));
    COSMOS_CHECK(read_int32(f, "height", 1, 8192, h));
    if (!is_tier_size(w, h)) {
        return bad_param("width", fmt::format("width x height {}x{} is not {}", w, h, tier_list()));
    }
    if (p.width != 0 && (p.width != w || p.height != h)) {
        return bad_param(
            "size",
            fmt::format("size {}x{} disagrees with width x height {}x{}", p.width, p.height, w, h));
    }
    p.width = w;
    p.height = h;
    return {};
}

core::Status read_extra(const FormFields& f, VideoParams& p) {
    const std::string* text = find(f, "extra_params");
    if (text == nullptr || text->empty()) {
        return {};
    }
    auto json = nlohmann::ordered_json::parse(*text, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
        return bad_param("extra_params", "extra_params must be a JSON object");
    }
    if (auto g = json.find("guardrails"); g != json.end()) {
        if (!g->is_boolean()) {
            return bad_param("extra_params", "extra_params.guardrails must be true or false");
        }
        p.guardrails = g->get<bool>();
    }
    p.extra_params = std::move(json);
    return {};
}

core::Status read_numbers(const FormFields& f, VideoParams& p) {
    COSMOS_CHECK(read_int32(f, "num_frames", 5, 300, p.num_frames));
    COSMOS_CHECK(read_int32(f, "fps", 10, 30, p.fps));
    if (p.fps != 10 && p.fps != 16 && p.fps != 24 && p.fps != 30) {
        return bad_param("fps", fmt::format("fps must be 10, 16, 24 or 30, got {}", p.fps));
    }
    COSMOS_CHECK(read_int32(f, "num_inference_steps", 1, 200, p.steps));
    COSMOS_CHECK(read_double(f, "guidance_scale", 0, 30, p.guidance_scale));
    COSMOS_CHECK(read_double(f, "flow_shift", 0, 50, p.flow_shift));
    COSMOS_CHECK(read_int(f, "seed", 0, INT64_MAX, p.seed));
    COSMOS_CHECK(read_int32(f, "max_sequence_length", 1, 4096, p.max_sequence_length));
    return {};
}

}  // namespace

bool is_tier_size(int width, int height) {
    return std::any_of(k_tiers.begin(), k_tiers.end(), [&](const auto& t) {
        return (t.first == width && t.second == height) || (t.second == width && t.first == height);
    });
}

core::Result<VideoParams> parse_video_form(const FormFields& fields) {
    VideoParams p;
    const std::string* prompt = find(fields, "prompt");
    if (prompt == nullptr || prompt->find_first_not_of(" \t\r\n") == std::string::npos) {
        return bad_param("prompt", "prompt is required and must not be empty");
    }
    p.prompt = *prompt;
    if (const std::string* neg = find(fields, "negative_prompt")) {
        p.negative_prompt = *neg;
    }
    COSMOS_CHECK(read_size(fields, p));
    COSMOS_CHECK(read_numbers(fields, p));
    COSMOS_CHECK(read_extra(fields, p));
    return p;
}

void apply_input_defaults(VideoParams& p, const InputReference& input) {
    if (p.num_frames == 0) {
        p.num_frames = input.kind == InputReference::Kind::video
                           ? static_cast<int>(std::clamp<std::int64_t>(input.frames, 5, 300))
                           : k_default_frames;
    }
    if (p.width == 0) {
        bool tier =
            input.kind != InputReference::Kind::none && is_tier_size(input.width, input.height);
        p.width = tier ? input.width : 1280;
        p.height = tier ? input.height : 720;
    }
}

}  // namespace cosmos::emulator
