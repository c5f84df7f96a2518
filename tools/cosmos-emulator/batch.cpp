#include "batch.hpp"

#include <fstream>

#include <fmt/format.h>

#include "log.hpp"
#include "python_error.hpp"
#include "spec.hpp"

namespace cosmos::emulator {

namespace {

constexpr const char* k_read = "demo>read_prompts_from_file";

core::Result<Sample> parse_line(const std::string& line,
                                int index,
                                const nlohmann::ordered_json& controls) {
    auto json = nlohmann::ordered_json::parse(line, nullptr, false);
    if (json.is_discarded()) {
        return raise_py("json.decoder.JSONDecodeError",
                        fmt::format("could not parse line {} of the batch file as JSON", index + 1),
                        k_read);
    }
    if (!json.is_object()) {
        return raise_py("AttributeError", "object has no attribute 'get'", k_read);
    }
    if (!json.contains("prompt")) {
        return raise_py("KeyError", "'prompt'", "demo");
    }
    Sample s;
    s.index = index;
    s.controls = controls;
    const auto& prompt = json["prompt"];
    const auto video = json.value("visual_input", nlohmann::ordered_json());
    if (!prompt.is_string() || !(video.is_null() || video.is_string())) {
        return raise_py("TypeError",
                        fmt::format("line {} of the batch file: prompt and visual_input must be "
                                    "strings",
                                    index + 1),
                        "demo");
    }
    s.prompt = prompt.get<std::string>();
    s.input_video_path = video.is_string() ? video.get<std::string>() : "";
    if (json.contains("control_overrides")) {
        core::Status merged = merge_overrides(s.controls, json["control_overrides"]);
        if (!merged) {
            return core::fail(std::move(merged).error());
        }
    }
    return s;
}

}  // namespace

Sample single_sample(const TransferArgs& args, const nlohmann::ordered_json& controls) {
    return Sample{0, args.prompt, args.input_video_path, controls};
}

core::Result<std::vector<Sample>> read_batch(const std::string& path,
                                             const nlohmann::ordered_json& controls) {
    std::ifstream in(path);
    if (!in) {
        return file_not_found(path, k_read);
    }
    std::vector<Sample> samples;
    std::string line;
    int index = 0;
    while (std::getline(in, line)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) {
            continue;
        }
        COSMOS_TRY(Sample s, parse_line(line, index, controls));
        samples.push_back(std::move(s));
        ++index;
    }
    log_line(Level::info, 318, fmt::format("Loaded {} prompts from {}", samples.size(), path));
    return samples;
}

}  // namespace cosmos::emulator
