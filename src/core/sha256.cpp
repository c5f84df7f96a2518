#include "core/sha256.hpp"

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

}  // namespace cosmos::core
