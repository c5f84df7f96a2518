// The hosts file (`cosmos hosts add` writes it): any bytes give hosts or an error; hosts that
// parse are written back by render_hosts_file, and what it writes must read back the same.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace cosmos::config;
    std::string text(reinterpret_cast<const char*>(data), size);
    const char* path = "/nonexistent/cosmos-fuzz/hosts.toml";
    auto hosts = parse_hosts_file(text, path);
    if (!hosts) {
        return 0;
    }
    std::vector<HostConfig> list;
    for (const auto& [name, host] : *hosts) {
        list.push_back(host);
    }
    std::string written = render_hosts_file(list);
    auto again = parse_hosts_file(written, path);
    if (!again || again->size() != hosts->size()) {
        std::fprintf(stderr,
                     "render_hosts_file wrote a file that does not read back: %s\n---\n%s\n",
                     again ? "host count differs" : again.error().message.c_str(),
                     written.c_str());
        std::abort();
    }
    return 0;
}
