#include "model/family.hpp"

#include "model/cosmos3.hpp"
#include "model/enhance_command.hpp"
#include "model/transfer25.hpp"

namespace cosmos::model {

std::string_view to_string(Family family) {
    switch (family) {
        case Family::transfer2_5:
            return "transfer2.5";
        case Family::cosmos3:
            return "cosmos3";
        case Family::transfer1:
            break;
    }
    return "transfer1";
}

std::optional<Family> parse_family(std::string_view name) {
    for (Family f : k_families) {
        if (name == to_string(f)) {
            return f;
        }
    }
    return std::nullopt;
}

namespace {

// Cosmos-Transfer1 (docs/models/transfer1.md): transfer.py (and its upscaler spec) under
// torchrun, the prompt upsampler on one GPU, JSONL batches.
class Transfer1 final : public ModelFamily {
public:
    Family family() const override { return Family::transfer1; }
    std::string display_name() const override { return "Cosmos-Transfer1"; }
    std::string summary() const override {
        return "7B; vis/edge/depth/seg/keypoint/hdmap/lidar controls; prompt upsampler and 4K "
               "upscaler";
    }
    bool served() const override { return false; }
    bool runs(core::RunKind) const override { return true; }

    std::optional<RunParams> own_defaults(std::string_view) const override { return std::nullopt; }
    core::Status check_params(const RunParams& params) const override { return validate(params); }

    std::string entry_point() const override { return k_transfer_script; }

    core::Result<nlohmann::ordered_json> spec(const SpecInput& in) const override {
        return build_transfer_spec(in);
    }

    LaunchCommand command(const HostLayout& layout,
                          const JobShape& job,
                          const nlohmann::ordered_json& spec) const override {
        std::vector<int> gpus = job.gpu_ids;
        if (gpus.empty()) {
            for (int i = 0; i < job.params.num_gpus; ++i) {
                gpus.push_back(i);
            }
        }
        if (job.kind == core::RunKind::enhance) {
            EnhanceCommandInput in;
            in.torchrun = layout.launcher;
            in.cosmos_dir = layout.checkout;
            in.checkpoint_dir = layout.checkpoint_dir;
            in.prompt = spec.value("prompt", std::string());
            in.input_video = spec.value("input_video", std::string());
            in.offload = spec.value("offload_prompt_upsampler", false);
            in.gpu_id = gpus.empty() ? 0 : gpus.front();
            return enhance_command(in);
        }
        TransferCommandInput in;
        in.torchrun = layout.launcher;
        in.cosmos_dir = layout.checkout;
        in.checkpoint_dir = layout.checkpoint_dir;
        in.spec_path = layout.job_dir + "/spec.json";
        in.output_dir = layout.job_dir + "/outputs";
        if (job.batch) {
            in.batch_input_path = layout.job_dir + "/batch.jsonl";
        }
        in.offload = job.params.offload;
        in.num_steps = job.num_steps;
        in.gpu_ids = gpus;
        auto cmd = transfer_command(in);
        cmd.argv.insert(
            cmd.argv.end(), job.params.extra_flags.begin(), job.params.extra_flags.end());
        return cmd;
    }

    int chunks(std::int64_t frames, const RunParams&) const override {
        return expected_chunks(frames);
    }
    ProgressTracker log_reader(int expected) const override {
        return ProgressTracker(expected, LogDialect::transfer1);
    }

    std::string output_video(std::optional<int> line) const override {
        return line ? batch_output_video(*line) : std::string("output.mp4");
    }

    std::optional<std::string> output_text(std::optional<int> line) const override {
        return line ? batch_output_prompt(*line) : std::string("output.txt");
    }

    std::optional<std::string> batch_key(const BatchFacts& facts) const override {
        return model::batch_key(facts);
    }

    core::Result<nlohmann::ordered_json> batch_spec(
        const std::vector<BatchFacts>& runs) const override {
        return model::batch_spec(runs);
    }

    nlohmann::ordered_json batch_line(const nlohmann::ordered_json& spec, int) const override {
        return model::batch_line(spec);
    }

    // The batch spec with the line applied: its prompt, input video and control overrides.
    nlohmann::ordered_json effective_spec(const nlohmann::ordered_json& batch_spec,
                                          const nlohmann::ordered_json& line) const override {
        nlohmann::ordered_json spec = batch_spec;
        spec["prompt"] = line.value("prompt", std::string());
        if (line.contains("visual_input")) {
            spec["input_video_path"] = line["visual_input"];
        }
        if (line.contains("control_overrides")) {
            for (const auto& [modality, o] : line["control_overrides"].items()) {
                for (const auto& [k, v] : o.items()) {
                    spec[modality][k] = v;
                }
            }
        }
        return spec;
    }
};

// Cosmos-Transfer2.5 (docs/models/transfer2.5.md): examples/inference.py under torchrun, a spec
// object per sample, a batch as one JSONL file of samples.
class Transfer25 final : public ModelFamily {
public:
    Family family() const override { return Family::transfer2_5; }
    std::string display_name() const override { return "Cosmos-Transfer2.5"; }
    std::string summary() const override {
        return "2B; edge/depth/seg/vis controls with spatiotemporal masks, native long videos, "
               "a distilled 4-step edge model";
    }
    bool served() const override { return false; }
    bool runs(core::RunKind kind) const override { return kind == core::RunKind::transfer; }

    std::optional<RunParams> own_defaults(std::string_view variant) const override {
        return transfer25_defaults(variant);
    }
    core::Status check_params(const RunParams& params) const override {
        return check_transfer25_params(params);
    }

    std::string entry_point() const override { return k_transfer25_script; }

    core::Result<nlohmann::ordered_json> spec(const SpecInput& in) const override {
        return build_transfer25_spec(in);
    }

    LaunchCommand command(const HostLayout& layout,
                          const JobShape& job,
                          const nlohmann::ordered_json&) const override {
        Transfer25CommandInput in;
        in.torchrun = layout.launcher;
        in.checkout = layout.checkout;
        in.input_file = layout.job_dir + (job.batch ? "/batch.jsonl" : "/spec.json");
        in.output_dir = layout.job_dir + "/outputs";
        in.params = job.params;
        in.gpu_ids = job.gpu_ids;
        if (in.gpu_ids.empty()) {
            for (int i = 0; i < job.params.num_gpus; ++i) {
                in.gpu_ids.push_back(i);
            }
        }
        return transfer25_command(in);
    }

    int chunks(std::int64_t frames, const RunParams& params) const override {
        return transfer25_chunks(frames, params);
    }
    ProgressTracker log_reader(int expected) const override {
        return ProgressTracker(expected, LogDialect::transfer2_5);
    }

    std::string output_video(std::optional<int> line) const override {
        return transfer25_sample_name(line) + ".mp4";
    }
    std::optional<std::string> output_text(std::optional<int> line) const override {
        return transfer25_sample_name(line) + ".txt";
    }

    std::optional<std::string> batch_key(const BatchFacts& facts) const override {
        return transfer25_batch_key(facts);
    }

    // Every sample is a whole spec in batch.jsonl; spec.json keeps the first for the record.
    core::Result<nlohmann::ordered_json> batch_spec(
        const std::vector<BatchFacts>& runs) const override {
        if (runs.empty()) {
            return core::fail(core::ErrorCode::invalid_input, "a batch needs at least one run");
        }
        auto key = transfer25_batch_key(runs.front());
        for (const auto& r : runs) {
            if (!key || transfer25_batch_key(r) != key) {
                return core::fail(core::ErrorCode::invalid_input,
                                  "these Cosmos-Transfer2.5 runs cannot share a model load "
                                  "(different controls, model variant, GPUs or offload)");
            }
        }
        return batch_line(runs.front().spec, 0);
    }

    nlohmann::ordered_json batch_line(const nlohmann::ordered_json& spec,
                                      int index) const override {
        nlohmann::ordered_json line = spec;
        line["name"] = transfer25_sample_name(index);
        return line;
    }

    nlohmann::ordered_json effective_spec(const nlohmann::ordered_json&,
                                          const nlohmann::ordered_json& line) const override {
        return line;
    }
};

// Cosmos 3 (docs/models/cosmos3.md): served by vLLM-Omni or SGLang; a run is one request to the
// Videos API (video-to-video from the prompt's color video). Requests are never batched into
// one load: the server is loaded once and takes several requests at once instead.
class Cosmos3 final : public ModelFamily {
public:
    Family family() const override { return Family::cosmos3; }
    std::string display_name() const override { return "Cosmos 3"; }
    std::string summary() const override {
        return "served (vLLM-Omni or SGLang): video-to-video requests to a warm server; its "
               "Reasoner enhances prompts, captions renders and reviews outputs";
    }
    bool served() const override { return true; }
    bool runs(core::RunKind kind) const override { return kind == core::RunKind::transfer; }
    std::optional<RunParams> own_defaults(std::string_view) const override {
        return cosmos3_defaults();
    }
    core::Status check_params(const RunParams& params) const override {
        return check_cosmos3_params(params);
    }
    std::string entry_point() const override { return {}; }
    core::Result<nlohmann::ordered_json> spec(const SpecInput& in) const override {
        return build_cosmos3_spec(in);
    }
    LaunchCommand command(const HostLayout&,
                          const JobShape&,
                          const nlohmann::ordered_json&) const override {
        return {};
    }
    int chunks(std::int64_t, const RunParams&) const override { return 1; }
    ProgressTracker log_reader(int expected) const override {
        return ProgressTracker(expected, LogDialect::transfer1);
    }
    std::string output_video(std::optional<int>) const override { return "output.mp4"; }
    std::optional<std::string> output_text(std::optional<int>) const override {
        return std::nullopt;
    }
    std::optional<std::string> batch_key(const BatchFacts&) const override { return std::nullopt; }
    core::Result<nlohmann::ordered_json> batch_spec(const std::vector<BatchFacts>&) const override {
        return core::fail(core::ErrorCode::invalid_input,
                          "Cosmos 3 runs are requests to a warm server: they are not batched");
    }
    nlohmann::ordered_json batch_line(const nlohmann::ordered_json& spec, int) const override {
        return spec;
    }
    nlohmann::ordered_json effective_spec(const nlohmann::ordered_json&,
                                          const nlohmann::ordered_json& line) const override {
        return line;
    }
};

}  // namespace

const ModelFamily& model_family(Family family) {
    static const Transfer1 k_transfer1;
    static const Transfer25 k_transfer25;
    static const Cosmos3 k_cosmos3;
    switch (family) {
        case Family::cosmos3:
            return k_cosmos3;
        case Family::transfer2_5:
            return k_transfer25;
        case Family::transfer1:
            break;
    }
    return k_transfer1;
}

}  // namespace cosmos::model
