#include "model/modality.hpp"

#include <algorithm>

namespace cosmos::model {

const std::vector<std::string>& modality_keys() {
    static const std::vector<std::string> keys = {
        "vis", "edge", "depth", "seg", "keypoint", "upscale", "hdmap", "lidar"};
    return keys;
}

bool is_modality(std::string_view key) {
    const auto& keys = modality_keys();
    return std::find(keys.begin(), keys.end(), key) != keys.end();
}

bool is_transfer_modality(std::string_view key) {
    return is_modality(key) && key != "upscale";
}

std::optional<std::string> modality_for_stem(std::string_view stem) {
    if (stem == "segmentation" || stem == "seg") {
        return std::string("seg");
    }
    if (stem == "depth" || stem == "edge" || stem == "vis" || stem == "keypoint" ||
        stem == "hdmap" || stem == "lidar") {
        return std::string(stem);
    }
    return std::nullopt;
}

bool is_computed_from_input(std::string_view key) {
    return key == "vis" || key == "edge";
}

}  // namespace cosmos::model
