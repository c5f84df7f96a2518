// The config file (config.toml): any bytes give a Config or an error, never a crash; a config
// that parses renders (`cosmos config show`) without one either.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    auto config = cosmos::config::parse_config(text, "/nonexistent/cosmos-fuzz/config.toml");
    if (config) {
        std::string shown = cosmos::config::render_config(*config);
        (void)shown;
    }
    return 0;
}
