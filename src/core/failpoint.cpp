#include "core/failpoint.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

namespace cosmos::core {

namespace {

struct Armed {
    std::mutex mutex;
    std::map<std::string, long, std::less<>> remaining;  // hits left before it fires
};

// COSMOS_FAILPOINTS, read once.
Armed& armed() {
    static Armed* a = [] {
        auto* out = new Armed();  // never destroyed: failpoints may be hit during exit
        const char* env = std::getenv("COSMOS_FAILPOINTS");
        std::string text = env ? env : "";
        std::size_t begin = 0;
        while (begin <= text.size() && !text.empty()) {
            std::size_t end = text.find(',', begin);
            std::string item = text.substr(begin, end == std::string::npos ? end : end - begin);
            std::size_t at = item.find('@');
            long n = 1;
            if (at != std::string::npos) {
                n = std::strtol(item.c_str() + at + 1, nullptr, 10);
                item.resize(at);
            }
            if (!item.empty() && n > 0) {
                out->remaining[item] = n;
            }
            if (end == std::string::npos) {
                break;
            }
            begin = end + 1;
        }
        return out;
    }();
    return *a;
}

}  // namespace

void failpoint(std::string_view name) {
    Armed& a = armed();
    {
        std::lock_guard lock(a.mutex);
        if (a.remaining.empty()) {
            return;
        }
        auto it = a.remaining.find(name);
        if (it == a.remaining.end() || --it->second > 0) {
            return;
        }
    }
    std::fprintf(stderr,
                 "cosmos: failpoint %.*s: killing this process (COSMOS_FAILPOINTS)\n",
                 static_cast<int>(name.size()),
                 name.data());
    std::fflush(stderr);
    std::raise(SIGKILL);
}

}  // namespace cosmos::core
