// `cosmos submit --batch FILE` (JSON or TOML, chosen by the first byte here) and the batch spec
// built from runs whose spec comes from outside (model/batch_file.cpp): an error or entries,
// never a crash.
#include "model/batch_file.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "services/batch_file.hpp"

namespace {

void batch_of_specs(std::string_view text) {
    auto j = nlohmann::ordered_json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_array()) {
        return;
    }
    std::vector<cosmos::model::BatchFacts> runs;
    for (const auto& spec : j) {
        cosmos::model::BatchFacts f;
        f.spec = spec;
        runs.push_back(f);
        auto line = cosmos::model::batch_line(spec);
        (void)line;
    }
    auto batch = cosmos::model::batch_spec(runs);
    (void)batch;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 3) {
        case 0: {
            auto entries = cosmos::services::parse_batch_json(text, "fuzz.json");
            (void)entries;
            break;
        }
        case 1: {
            auto entries = cosmos::services::parse_batch_toml(text, "fuzz.toml");
            (void)entries;
            break;
        }
        default:
            batch_of_specs(text);
    }
    return 0;
}
