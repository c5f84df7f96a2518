#include "model/enhance_command.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

namespace cosmos::model {

LaunchCommand enhance_command(const EnhanceCommandInput& in) {
    LaunchCommand cmd;
    cmd.cwd = in.cosmos_dir;
    cmd.argv = {in.torchrun,
                "--nproc_per_node=1",
                "--nnodes=1",
                "--node_rank=0",
                k_upsampler_script,
                "--prompt",
                in.prompt,
                "--input_video",
                in.input_video,
                "--checkpoint_dir",
                in.checkpoint_dir};
    if (in.offload) {
        cmd.argv.emplace_back("--offload_prompt_upsampler");
    }
    cmd.env = {{"CUDA_VISIBLE_DEVICES", fmt::format("{}", in.gpu_id)},
               {"PYTHONPATH", in.cosmos_dir},
               {"OMP_NUM_THREADS", "1"}};
    return cmd;
}

FrameSize upsampler_frame_size(int width, int height) {
    if (width <= 0 || height <= 0 ||
        static_cast<long>(width) * static_cast<long>(height) <= k_upsampler_max_pixels) {
        return {width, height};
    }
    double scale = std::sqrt(static_cast<double>(k_upsampler_max_pixels) /
                             (static_cast<double>(width) * static_cast<double>(height)));
    int w = static_cast<int>(std::floor(width * scale)) & ~1;
    int h = static_cast<int>(std::floor(height * scale)) & ~1;
    while (static_cast<long>(w) * h > k_upsampler_max_pixels) {
        (w >= h ? w : h) -= 2;
    }
    return {std::max(w, 2), std::max(h, 2)};
}

namespace {

bool starts_log_line(std::string_view line) {
    if (line.starts_with("[")) {
        return true;
    }
    // Lines our own tooling adds to a log (the supervisor's and launcher's notes, trailers such
    // as "# cosmos: exit code 0") are never part of what the upsampler printed.
    if (line.starts_with("# cosmos") || line.starts_with("cosmos:") ||
        line.starts_with("cosmos-job.sh:")) {
        return true;
    }
    for (std::string_view p : {"INFO ", "WARNING ", "ERROR ", "DEBUG ", "CRITICAL "}) {
        if (line.starts_with(p)) {
            return true;
        }
    }
    // glog style (torchrun): W1130 12:00:00.000000 ...
    return line.size() > 5 && std::string_view("IWEF").find(line[0]) != std::string_view::npos &&
           std::isdigit(static_cast<unsigned char>(line[1])) &&
           std::isdigit(static_cast<unsigned char>(line[4]));
}

std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) {
        return {};
    }
    auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

}  // namespace

std::optional<std::string> parse_upsampled_prompt(std::string_view output) {
    constexpr std::string_view k_marker = "Upsampled prompt: ";
    auto at = output.rfind(k_marker);
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view rest = output.substr(at + k_marker.size());
    std::string_view text = rest;
    for (std::size_t nl = rest.find('\n'); nl != std::string_view::npos;
         nl = rest.find('\n', nl + 1)) {
        std::string_view next = rest.substr(nl + 1);
        if (starts_log_line(next)) {
            text = rest.substr(0, nl);
            break;
        }
    }
    std::string out = trim(text);
    if (out.empty()) {
        return std::nullopt;
    }
    return out;
}

}  // namespace cosmos::model
