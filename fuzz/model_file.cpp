// A user's model file (<config>/models/NAME.toml): a model or an error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/model_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    auto model = cosmos::config::parse_user_model(text, "/nonexistent/models/warehouse.toml");
    (void)model;
    return 0;
}
