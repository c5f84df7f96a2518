#include "core/sha256.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <openssl/evp.h>

namespace cosmos::core {

namespace {
struct MdCtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct FileClose {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

std::string to_hex(const unsigned char* d, unsigned n) {
    std::string out;
    out.reserve(n * 2);
    for (unsigned i = 0; i < n; ++i) {
        out += fmt::format("{:02x}", d[i]);
    }
    return out;
}
}  // namespace

std::string sha256_hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned n = 0;
    EVP_Digest(data.data(), data.size(), md.data(), &n, EVP_sha256(), nullptr);
    return to_hex(md.data(), n);
}

Result<std::string> sha256_file(const std::filesystem::path& path) {
    std::unique_ptr<std::FILE, FileClose> f(std::fopen(path.c_str(), "rb"));
    if (!f) {
        return fail(ErrorCode::io, fmt::format("cannot read {}", path.string()));
    }
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
    std::vector<unsigned char> buf(1 << 20);
    std::size_t got = 0;
    while ((got = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) {
        EVP_DigestUpdate(ctx.get(), buf.data(), got);
    }
    if (std::ferror(f.get()) != 0) {
        return fail(ErrorCode::io, fmt::format("error reading {}", path.string()));
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned n = 0;
    EVP_DigestFinal_ex(ctx.get(), md.data(), &n);
    return to_hex(md.data(), n);
}

struct Sha256Stream::Ctx {
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> md{EVP_MD_CTX_new()};
};

Sha256Stream::Sha256Stream() : m_ctx(std::make_unique<Ctx>()) {
    EVP_DigestInit_ex(m_ctx->md.get(), EVP_sha256(), nullptr);
}
Sha256Stream::~Sha256Stream() = default;
Sha256Stream::Sha256Stream(Sha256Stream&&) noexcept = default;
Sha256Stream& Sha256Stream::operator=(Sha256Stream&&) noexcept = default;

void Sha256Stream::update(const void* data, std::size_t n) {
    EVP_DigestUpdate(m_ctx->md.get(), data, n);
    m_bytes += n;
}

bool Sha256Stream::update_at(std::uint64_t offset, const char* data, std::size_t n) {
    if (offset > m_bytes) {
        return false;
    }
    std::uint64_t skip = m_bytes - offset;
    if (skip < n) {
        update(data + skip, n - static_cast<std::size_t>(skip));
    }
    return true;
}

std::string Sha256Stream::hex() const {
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> copy(EVP_MD_CTX_new());
    EVP_MD_CTX_copy_ex(copy.get(), m_ctx->md.get());
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned n = 0;
    EVP_DigestFinal_ex(copy.get(), md.data(), &n);
    return to_hex(md.data(), n);
}

std::string Sha256Stream::finish() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned n = 0;
    EVP_DigestFinal_ex(m_ctx->md.get(), md.data(), &n);
    EVP_DigestInit_ex(m_ctx->md.get(), EVP_sha256(), nullptr);
    m_bytes = 0;
    return to_hex(md.data(), n);
}

Status sha256_feed_file(Sha256Stream& stream,
                        const std::filesystem::path& path,
                        std::uint64_t upto) {
    if (stream.bytes() >= upto) {
        return {};
    }
    std::unique_ptr<std::FILE, FileClose> f(std::fopen(path.c_str(), "rb"));
    if (!f || ::fseeko(f.get(), static_cast<off_t>(stream.bytes()), SEEK_SET) != 0) {
        return fail(ErrorCode::io, fmt::format("cannot read {}", path.string()));
    }
    std::vector<char> buf(1 << 20);
    while (stream.bytes() < upto) {
        auto want =
            static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), upto - stream.bytes()));
        std::size_t got = std::fread(buf.data(), 1, want, f.get());
        if (got == 0) {
            return fail(
                ErrorCode::io,
                fmt::format(
                    "{} ended before byte {} (changed while being read?)", path.string(), upto));
        }
        stream.update(buf.data(), got);
    }
    return {};
}

}  // namespace cosmos::core
