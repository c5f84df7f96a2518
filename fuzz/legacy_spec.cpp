// `cosmos import`: the Python tool's prompt and run spec JSON files. Every file gives a
// candidate or a skipped item with a reason, never a crash.
#include "services/legacy_spec.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace cosmos::services::legacy;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    cosmos::services::ImportDefaults defaults{"blurry"};
    Batch batch;
    read_spec_text(text, "inputs/prompts/2024-01-01/fuzz.json", defaults, batch);
    return 0;
}
