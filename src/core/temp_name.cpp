#include "core/temp_name.hpp"

#include <atomic>
#include <mutex>
#include <random>

#include <unistd.h>

#include <fmt/format.h>

namespace cosmos::core {

std::string temp_sibling(std::string_view path) {
    static std::atomic<unsigned long> counter{0};
    static std::mutex m;
    static std::mt19937_64 rng{std::random_device{}()};
    std::uint64_t r = 0;
    {
        std::lock_guard<std::mutex> lk(m);
        r = rng();
    }
    return fmt::format("{}.tmp-{}-{}-{:08x}",
                       path,
                       ::getpid(),
                       counter.fetch_add(1),
                       static_cast<std::uint32_t>(r));
}

}  // namespace cosmos::core
