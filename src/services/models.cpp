#include "services/models.hpp"

#include <fmt/format.h>

#include "config/model_files.hpp"
#include "model/family.hpp"
#include "model/transfer25.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;

namespace {

nlohmann::ordered_json family_json(model::Family f) {
    const auto& family = model::model_family(f);
    return {{"name", std::string(model::to_string(f))},
            {"family", std::string(model::to_string(f))},
            {"display_name", family.display_name()},
            {"description", family.summary()},
            {"kind", "family"}};
}

nlohmann::ordered_json family_detail(model::Family f) {
    auto j = family_json(f);
    const auto& family = model::model_family(f);
    if (family.served()) {
        j["served"] = true;
        j["endpoints"] = {"POST /v1/videos",
                          "GET /v1/videos/{id}",
                          "GET /v1/videos/{id}/content",
                          "DELETE /v1/videos/{id}",
                          "POST /v1/chat/completions (Reasoner)"};
        j["defaults"] = {{"guidance", 7.0}, {"seed", 1}, {"num_steps", 35}, {"fps", 24}};
        j["rules"] = {"num_frames: 5-300 (default: the input's frames)",
                      "fps: 10, 16, 24 or 30",
                      "resolution: 256 (320x192), 480 (832x480), 720 (1280x720); default: the "
                      "input's size when it is one, else the nearest",
                      "runs go to http hosts or ssh hosts with a [hosts.NAME.serve] table"};
        return j;
    }
    j["entry_point"] = family.entry_point();
    if (f == model::Family::transfer2_5) {
        auto d = model::transfer25_defaults();
        j["controls"] = model::k_transfer25_controls;
        j["defaults"] = {{"guidance", d.guidance},
                         {"seed", d.seed},
                         {"num_steps", d.num_steps},
                         {"resolution", "720"}};
        j["rules"] = {"guidance: a whole number 0-7",
                      "control weights: 0-1, at least one control on",
                      "controls without a video are computed from the input video",
                      "variant edge/distilled: edge only, 4 steps",
                      "runs share a model load when their controls, variant, GPUs and flags match"};
        j["runs"] = {"transfer"};
    } else {
        j["controls"] = {"vis", "edge", "depth", "seg", "keypoint", "hdmap", "lidar"};
        j["defaults"] = "[run] in the configuration (guidance 7, seed 1, 35 steps)";
        j["rules"] = {"guidance: 1-20",
                      "control weights: >= 0",
                      "runs share a model load when their specs agree but for prompt, video and "
                      "weights, with the same input size"};
        j["runs"] = {"transfer", "upscale", "enhance"};
    }
    return j;
}

nlohmann::ordered_json user_json(const config::UserModel& m, bool detail) {
    nlohmann::ordered_json j{{"name", m.name},
                             {"family", std::string(model::to_string(m.family))},
                             {"display_name", m.display_name},
                             {"description", m.description},
                             {"kind", "file"}};
    if (!detail) {
        return j;
    }
    j["file"] = m.file.string();
    j["sha256"] = m.sha256;
    j["checkpoint_path"] = m.checkpoint_path;
    j["experiment"] = m.experiment;
    j["extra_flags"] = m.extra_flags;
    nlohmann::ordered_json d = nlohmann::ordered_json::object();
    if (m.defaults.num_steps) {
        d["num_steps"] = *m.defaults.num_steps;
    }
    if (m.defaults.guidance) {
        d["guidance"] = *m.defaults.guidance;
    }
    if (m.defaults.seed) {
        d["seed"] = *m.defaults.seed;
    }
    if (m.defaults.resolution) {
        d["resolution"] = *m.defaults.resolution;
    }
    if (m.defaults.variant) {
        d["variant"] = *m.defaults.variant;
    }
    if (!m.defaults.weights.empty()) {
        d["weights"] = m.defaults.weights;
    }
    j["defaults"] = d;
    return j;
}

}  // namespace

core::Result<nlohmann::ordered_json> list_models(const config::Config& config) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (model::Family f : model::k_families) {
        out.push_back(family_json(f));
    }
    COSMOS_TRY(auto users, config::load_user_models(config::models_dir(config.paths.config_dir)));
    for (const auto& m : users) {
        out.push_back(user_json(m, false));
    }
    return out;
}

core::Result<nlohmann::ordered_json> show_model(const config::Config& config,
                                                const std::string& name) {
    if (auto f = model::parse_family(name)) {
        return family_detail(*f);
    }
    COSMOS_TRY(auto users, config::load_user_models(config::models_dir(config.paths.config_dir)));
    std::string names = "transfer1, transfer2.5";
    for (const auto& m : users) {
        if (m.name == name) {
            return user_json(m, true);
        }
        names += ", " + m.name;
    }
    return fail(ErrorCode::not_found, fmt::format("no model '{}'", name), "models: " + names);
}

}  // namespace cosmos::services
