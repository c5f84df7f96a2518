#pragma once
// Private to src/transport: reading the SFTP v3 packets a server sends (sftp_transfer.cpp),
// kept apart from the channel so the parsing can be tested and fuzzed on bytes alone.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace cosmos::transport::detail {

inline std::uint32_t get_u32(const char* p) {
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) |
           std::uint32_t{u[3]};
}

// Bounds-checked reading of a packet's fields; `ok` turns false on a short packet.
struct Reader {
    std::string_view s;
    std::size_t pos = 0;
    bool ok = true;
    std::uint32_t u32() {
        if (s.size() - pos < 4) {
            ok = false;
            return 0;
        }
        auto v = get_u32(s.data() + pos);
        pos += 4;
        return v;
    }
    std::uint64_t u64() {
        std::uint64_t hi = u32();
        return (hi << 32) | u32();
    }
    std::string_view str() {
        std::uint32_t n = u32();
        if (!ok || s.size() - pos < n) {
            ok = false;
            return {};
        }
        auto v = s.substr(pos, n);
        pos += n;
        return v;
    }
};

struct Packet {
    std::uint8_t type = 0;
    std::uint32_t id = 0;
    std::string body;  // after the id
};

// The packet at `in[pos...]`, `pos` moved past it; nullopt while its bytes have not all come.
// Fails on a length under 5 (type and id) or over 16 MiB.
core::Result<std::optional<Packet>> take_packet(std::string_view in, std::size_t& pos);

// The extension names of a VERSION packet's body ((name, data) pairs).
std::vector<std::string> version_extensions(std::string_view body);

}  // namespace cosmos::transport::detail
