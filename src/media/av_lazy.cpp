// Loading FFmpeg's libraries on first use (see av_lazy.hpp).

#include "media/av_lazy.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <dlfcn.h>

#define COSMOS_AV_STR2(x) #x
#define COSMOS_AV_STR(x) COSMOS_AV_STR2(x)

namespace cosmos::media::av {

namespace {

constexpr std::array<const char*, 5> k_sonames{
    "libavutil.so." COSMOS_AV_STR(LIBAVUTIL_VERSION_MAJOR),
    "libavcodec.so." COSMOS_AV_STR(LIBAVCODEC_VERSION_MAJOR),
    "libavformat.so." COSMOS_AV_STR(LIBAVFORMAT_VERSION_MAJOR),
    "libavfilter.so." COSMOS_AV_STR(LIBAVFILTER_VERSION_MAJOR),
    "libswscale.so." COSMOS_AV_STR(LIBSWSCALE_VERSION_MAJOR),
};

[[noreturn]] void broken(const char* what, const char* detail) {
    std::fprintf(
        stderr,
        "cosmos: cannot load FFmpeg (%s): %s\n"
        "hint: install Debian's FFmpeg libraries (scripts/install-deps.sh installs them)\n",
        what,
        detail != nullptr ? detail : "unknown error");
    std::_Exit(70);
}

void* handle(Library library) {
    static std::array<void*, k_sonames.size()> handles{};
    static std::array<std::once_flag, k_sonames.size()> once;
    auto i = static_cast<std::size_t>(library);
    std::call_once(once[i], [i] {
        handles[i] = ::dlopen(k_sonames[i], RTLD_NOW | RTLD_GLOBAL);
        if (handles[i] == nullptr) {
            broken(k_sonames[i], ::dlerror());
        }
    });
    return handles[i];
}

}  // namespace

const char* soname(Library library) {
    return k_sonames[static_cast<std::size_t>(library)];
}

void* symbol(Library library, const char* name) {
    void* address = ::dlsym(handle(library), name);
    if (address == nullptr) {
        broken(name, ::dlerror());
    }
    return address;
}

}  // namespace cosmos::media::av
