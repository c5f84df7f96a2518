#include "model/family.hpp"

#include "model/enhance_command.hpp"

namespace cosmos::model {

std::string_view to_string(Family family) {
    switch (family) {
        case Family::transfer1:
            break;
    }
    return "transfer1";
}

std::optional<Family> parse_family(std::string_view name) {
    if (name == "transfer1") {
        return Family::transfer1;
    }
    return std::nullopt;
}

namespace {

// Cosmos-Transfer1 (docs/models/transfer1.md): transfer.py (and its upscaler spec) under
// torchrun, the prompt upsampler on one GPU, JSONL batches.
class Transfer1 final : public ModelFamily {
public:
    Family family() const override { return Family::transfer1; }

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
        return transfer_command(in);
    }

    ProgressTracker log_reader(std::int64_t frames) const override {
        return ProgressTracker(expected_chunks(frames));
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

    nlohmann::ordered_json batch_line(const nlohmann::ordered_json& spec) const override {
        return model::batch_line(spec);
    }
};

}  // namespace

const ModelFamily& model_family(Family family) {
    static const Transfer1 k_transfer1;
    switch (family) {
        case Family::transfer1:
            break;
    }
    return k_transfer1;
}

}  // namespace cosmos::model
