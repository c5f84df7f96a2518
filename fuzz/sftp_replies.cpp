// The SFTP server's replies to the pipelined transfers (src/transport/sftp_transfer.cpp): the
// bytes are cut into packets as they arrive from the channel, and each body is read the way
// its replies are (VERSION extensions, HANDLE, STATUS, ATTRS, DATA). A packet never reads past
// its end, and a bad length is an error, never a crash or a huge allocation.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "transport/sftp_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace cosmos::transport::detail;
    std::string_view in(reinterpret_cast<const char*>(data), size);
    std::size_t pos = 0;
    for (;;) {
        auto p = take_packet(in, pos);
        if (!p || !*p) {
            break;
        }
        if (pos > in.size()) {
            std::abort();
        }
        const Packet& packet = **p;
        auto extensions = version_extensions(packet.body);
        (void)extensions;
        Reader handle{packet.body};
        auto h = handle.str();
        Reader status{packet.body};
        auto code = status.u32();
        auto message = status.str();
        Reader attrs{packet.body};
        auto flags = attrs.u32();
        auto bytes = attrs.u64();
        for (const Reader* r : {&handle, &status, &attrs}) {
            if (r->pos > packet.body.size()) {
                std::abort();
            }
        }
        (void)h, (void)code, (void)message, (void)flags, (void)bytes;
    }
    return 0;
}
