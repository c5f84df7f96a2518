#include "services/views.hpp"

#include "model/run_params.hpp"
#include "store/gpu_samples.hpp"

namespace cosmos::services {

namespace {
template <class T>
nlohmann::ordered_json opt(const std::optional<T>& v) {
    return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}
}  // namespace

nlohmann::ordered_json prompt_json(const store::PromptRecord& p) {
    nlohmann::ordered_json j;
    j["id"] = p.id;
    j["name"] = p.name;
    j["prompt"] = p.prompt;
    j["negative_prompt"] = p.negative_prompt;
    j["input_dir"] = p.input_dir;
    j["input_video"] = opt(p.input_video);
    j["controls"] = p.controls;
    j["masks"] = p.masks;
    j["video"] = {{"width", p.video.width},
                  {"height", p.video.height},
                  {"frames", p.video.frames},
                  {"fps", p.video.fps}};
    j["parent_id"] = opt(p.parent_id);
    j["template"] = opt(p.template_name);
    j["source"] = p.source;
    j["created_at"] = p.created_at;
    j["model"] = p.model;
    return j;
}

nlohmann::ordered_json run_json(const store::RunRecord& r) {
    nlohmann::ordered_json j;
    j["id"] = r.id;
    j["prompt_id"] = r.prompt_id;
    j["kind"] = r.kind;
    j["model"] = r.model;
    j["model_name"] = opt(r.model_name);
    j["model_hash"] = opt(r.model_hash);
    j["status"] = std::string(store::to_string(r.status));
    j["host"] = opt(r.host);
    j["params"] = nlohmann::ordered_json::parse(model::to_json(r.params).dump());
    j["progress"] = r.progress;
    j["rating"] = opt(r.rating);
    j["created_at"] = r.created_at;
    j["updated_at"] = r.updated_at;
    j["started_at"] = opt(r.started_at);
    j["finished_at"] = opt(r.finished_at);
    j["exit_code"] = opt(r.exit_code);
    j["error"] = opt(r.error);
    j["output_dir"] = opt(r.output_dir);
    j["output_video"] = opt(r.output_video);
    j["log_path"] = opt(r.log_path);
    j["parent_run_id"] = opt(r.parent_run_id);
    j["source"] = r.source;
    j["runtime"] = opt(r.runtime);
    j["remote_dir"] = opt(r.remote_dir);
    j["batch_id"] = opt(r.batch_id);
    j["batch_index"] =
        r.batch_index ? nlohmann::ordered_json(*r.batch_index) : nlohmann::ordered_json();
    j["image"] = opt(r.image);
    j["uploaded_bytes"] = opt(r.uploaded_bytes);
    j["durations"] = {{"upload_s", opt(r.upload_seconds)},
                      {"run_s", opt(r.run_seconds)},
                      {"download_s", opt(r.download_seconds)}};
    j["sweep_id"] = opt(r.sweep_id);
    j["gpu_seconds"] = opt(r.gpu_seconds);
    j["gpu_price_per_hour"] = opt(r.gpu_price_per_hour);
    j["cost"] = r.gpu_seconds && r.gpu_price_per_hour
                    ? nlohmann::ordered_json(*r.gpu_seconds / 3600.0 * *r.gpu_price_per_hour)
                    : nlohmann::ordered_json();
    nlohmann::ordered_json ids = nullptr;
    if (r.gpu_ids) {
        ids = store::parse_gpu_ids(*r.gpu_ids);
    }
    j["gpu"] = {{"ids", ids},
                {"util_mean_percent", opt(r.gpu_util_mean)},
                {"util_peak_percent", opt(r.gpu_util_peak)},
                {"mem_peak_mib", opt(r.gpu_mem_peak_mib)}};
    return j;
}

nlohmann::ordered_json run_events_json(const std::vector<store::RunEvent>& events) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& e : events) {
        arr.push_back({{"at", e.at},
                       {"status", std::string(store::to_string(e.status))},
                       {"detail", e.detail}});
    }
    return arr;
}

}  // namespace cosmos::services
