#include "model/upscale_command.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "model/spec.hpp"

namespace cosmos::model {

core::Status check_upscale_weight(double weight) {
    if (!std::isfinite(weight) || weight < 0) {
        return core::fail(
            core::ErrorCode::invalid_input,
            fmt::format("invalid upscale weight {}: it must be a number >= 0", weight),
            "the default is 0.5");
    }
    return {};
}

core::Result<nlohmann::ordered_json> build_upscale_run_spec(const UpscaleInput& in) {
    if (auto s = check_upscale_weight(in.weight); !s) {
        return core::fail(s.error());
    }
    if (in.input_video.empty()) {
        return core::fail(core::ErrorCode::invalid_input,
                          "an upscale run needs the finished run's output video");
    }
    return build_upscale_spec(in.input_video, in.weight, in.prompt);
}

LaunchCommand upscale_command(TransferCommandInput in) {
    in.num_steps = k_upscale_num_steps;
    if (std::find(in.offload.begin(), in.offload.end(), "text_encoder_model") == in.offload.end()) {
        in.offload.insert(in.offload.begin(), "text_encoder_model");
    }
    in.batch_input_path.reset();
    in.save_name = k_upscale_save_name;
    in.upsample_prompt = false;
    return transfer_command(in);
}

}  // namespace cosmos::model
