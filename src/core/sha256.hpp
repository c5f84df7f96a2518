#pragma once
// SHA-256 of bytes and files (OpenSSL), used for content-addressed inputs and manifests.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace cosmos::core {

// Returns the lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// Returns the lower-case hex SHA-256 of the file's contents; fails with io when it can't be read.
Result<std::string> sha256_file(const std::filesystem::path& path);

// SHA-256 fed piece by piece: a transfer hashes the bytes it reads anyway, so one read of a file
// serves both the copy and its hash.
class Sha256Stream {
public:
    Sha256Stream();
    ~Sha256Stream();
    Sha256Stream(Sha256Stream&&) noexcept;
    Sha256Stream& operator=(Sha256Stream&&) noexcept;
    Sha256Stream(const Sha256Stream&) = delete;
    Sha256Stream& operator=(const Sha256Stream&) = delete;

    void update(const void* data, std::size_t n);
    std::uint64_t bytes() const { return m_bytes; }  // fed so far
    // Feeds the part of [offset, offset + n) beyond bytes(): data at `offset` already fed is
    // skipped (a resumed transfer re-reads some), so the stream only ever moves forward. Returns
    // false when `offset` lies beyond bytes() (a gap: the caller must feed it first).
    bool update_at(std::uint64_t offset, const char* data, std::size_t n);
    // The lower-case hex digest of what was fed so far; feeding may go on.
    std::string hex() const;
    // The lower-case hex digest of everything fed; the stream starts over afterwards.
    std::string finish();

private:
    struct Ctx;
    std::unique_ptr<Ctx> m_ctx;
    std::uint64_t m_bytes = 0;
};

// Feeds `stream` the bytes of the file at `path` from stream.bytes() up to `upto` (the part a
// transfer will not read itself, e.g. a resumed prefix); fails with io when they can't be read.
Status sha256_feed_file(Sha256Stream& stream,
                        const std::filesystem::path& path,
                        std::uint64_t upto);

}  // namespace cosmos::core
