#include "model/pt_tensor.hpp"

#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>

#include <zip.h>

#include <fmt/format.h>

#include "core/temp_name.hpp"

namespace cosmos::model {

namespace {

// torch aligns each record's bytes to this boundary with a padding extra field ("FB") in the
// entry's local header.
constexpr std::size_t k_alignment = 64;
constexpr std::size_t k_local_header = 30;
constexpr std::uint16_t k_padding_field = 0x4246;  // "FB" read as a little-endian id

void put_le(std::string& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
}

// Python's pickler (protocol 2) writes a non-negative int in the smallest of these forms.
void put_int(std::string& out, std::int64_t v) {
    if (v >= 0 && v <= 0xff) {
        out.push_back('K');  // BININT1
        put_le(out, static_cast<std::uint64_t>(v), 1);
    } else if (v >= 0 && v <= 0xffff) {
        out.push_back('M');  // BININT2
        put_le(out, static_cast<std::uint64_t>(v), 2);
    } else if (v >= -0x80000000LL && v <= 0x7fffffffLL) {
        out.push_back('J');  // BININT
        put_le(out, static_cast<std::uint64_t>(v), 4);
    } else {
        // LONG1: the two's complement bytes, little-endian, as few as keep the sign.
        std::string bytes;
        std::int64_t x = v;
        do {
            bytes.push_back(static_cast<char>(x & 0xff));
            x >>= 8;
        } while (!((x == 0 && (bytes.back() & 0x80) == 0) || (x == -1 && (bytes.back() & 0x80))));
        out.push_back('\x8a');
        out.push_back(static_cast<char>(bytes.size()));
        out += bytes;
    }
}

struct Pickler {
    std::string out = std::string("\x80\x02", 2);  // PROTO 2
    int memo = 0;
    void put() {  // BINPUT: memoize the top of the stack, as Python does for each new object
        out.push_back('q');
        out.push_back(static_cast<char>(memo++));
    }
    void global(std::string_view module, std::string_view name) {
        out += fmt::format("c{}\n{}\n", module, name);
        put();
    }
    void text(std::string_view s) {
        out.push_back('X');  // BINUNICODE
        put_le(out, s.size(), 4);
        out += s;
        put();
    }
    void int_tuple(std::span<const std::int64_t> items) {
        if (items.empty()) {
            out.push_back(')');
            return;
        }
        if (items.size() > 3) {
            out.push_back('(');
        }
        for (std::int64_t v : items) {
            put_int(out, v);
        }
        static constexpr char k_tuple_n[] = {'\x85', '\x86', '\x87'};
        out.push_back(items.size() > 3 ? 't' : k_tuple_n[items.size() - 1]);
        put();
    }
};

std::int64_t product(std::span<const std::int64_t> shape) {
    std::int64_t n = 1;
    for (std::int64_t d : shape) {
        n *= d;
    }
    return n;
}

struct ZipCloser {
    void operator()(zip_t* z) const { zip_discard(z); }
};

std::string zip_message(zip_t* z) {
    return zip_strerror(z);
}

}  // namespace

std::string pt_tensor_pickle(std::span<const std::int64_t> shape) {
    Pickler p;
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.out.push_back('(');  // MARK: the arguments
    p.out.push_back('(');  // MARK: the storage's persistent id
    p.text("storage");
    p.global("torch", "FloatStorage");
    p.text("0");
    p.text("cpu");
    put_int(p.out, product(shape));
    p.out.push_back('t');
    p.put();
    p.out.push_back('Q');  // BINPERSID
    put_int(p.out, 0);     // storage offset
    p.int_tuple(shape);
    std::vector<std::int64_t> strides(shape.size(), 1);
    for (std::size_t i = shape.size(); i-- > 1;) {
        strides[i - 1] = strides[i] * shape[i];
    }
    p.int_tuple(strides);
    p.out.push_back('\x89');  // NEWFALSE: requires_grad
    p.global("collections", "OrderedDict");
    p.out.push_back(')');  // EMPTY_TUPLE
    p.out.push_back('R');  // REDUCE: OrderedDict(), the backward hooks
    p.put();
    p.out.push_back('t');
    p.put();
    p.out.push_back('R');  // REDUCE: the tensor
    p.put();
    p.out.push_back('.');  // STOP
    return p.out;
}

std::string pt_archive_folder(const std::string& path) {
    std::filesystem::path p(path);
    return p.has_filename() ? p.stem().string() : std::string();
}

core::Status write_pt_tensor(const std::string& path,
                             std::span<const std::int64_t> shape,
                             std::span<const float> values) {
    auto invalid = [&](std::string why) {
        return core::fail(core::ErrorCode::invalid_input,
                          fmt::format("weight tensor {}: {}", path, why));
    };
    if (shape.size() != 2 && shape.size() != 3) {
        return invalid(
            fmt::format("shape has {} dimensions; it must be [H,W] or [T,H,W]", shape.size()));
    }
    std::int64_t numel = 1;
    for (std::int64_t d : shape) {
        if (d < 1) {
            return invalid(fmt::format(
                "dimension {} in shape [{}]; each must be >= 1", d, fmt::join(shape, ",")));
        }
        if (d > k_max_pt_elements || numel * d > k_max_pt_elements) {
            return invalid(fmt::format(
                "shape [{}] holds more than {} values", fmt::join(shape, ","), k_max_pt_elements));
        }
        numel *= d;
    }
    if (static_cast<std::int64_t>(values.size()) != numel) {
        return invalid(fmt::format(
            "{} values for shape [{}] ({} expected)", values.size(), fmt::join(shape, ","), numel));
    }
    std::string folder = pt_archive_folder(path);
    if (folder.empty()) {
        return invalid("the path names no file");
    }

    std::string pickle = pt_tensor_pickle(shape);
    static constexpr char k_byteorder[] = "little";
    static constexpr char k_version[] = "3\n";
    std::vector<float> swapped;  // big-endian hosts only
    const void* data = values.data();
    if constexpr (std::endian::native == std::endian::big) {
        swapped.assign(values.begin(), values.end());
        for (float& f : swapped) {
            auto u = std::bit_cast<std::uint32_t>(f);
            f = std::bit_cast<float>(__builtin_bswap32(u));
        }
        data = swapped.data();
    }
    std::size_t data_bytes = values.size() * sizeof(float);

    // The entries' local headers carry no extra field of their own (stored, sizes known, below
    // 4 GiB), so data/0's bytes start at a known offset; pad its header to align them.
    std::string pkl_name = folder + "/data.pkl";
    std::string order_name = folder + "/byteorder";
    std::string data_name = folder + "/data/0";
    std::string version_name = folder + "/version";
    std::size_t data_header = (k_local_header + pkl_name.size() + pickle.size()) +
                              (k_local_header + order_name.size() + std::strlen(k_byteorder));
    std::size_t unpadded = data_header + k_local_header + data_name.size() + 4;
    std::string padding((k_alignment - unpadded % k_alignment) % k_alignment, 'Z');

    std::string tmp = core::temp_sibling(path);
    auto io_error = [&](std::string why) {
        std::error_code ec;
        std::filesystem::remove(tmp, ec);
        return core::fail(core::ErrorCode::io,
                          fmt::format("cannot write weight tensor {}: {}", path, why));
    };
    int zerr = 0;
    std::unique_ptr<zip_t, ZipCloser> z(zip_open(tmp.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &zerr));
    if (!z) {
        zip_error_t e;
        zip_error_init_with_code(&e, zerr);
        std::string why = zip_error_strerror(&e);
        zip_error_fini(&e);
        return io_error(why);
    }
    struct Entry {
        const std::string& name;
        const void* bytes;
        std::size_t size;
    };
    const Entry entries[] = {{pkl_name, pickle.data(), pickle.size()},
                             {order_name, k_byteorder, std::strlen(k_byteorder)},
                             {data_name, data, data_bytes},
                             {version_name, k_version, std::strlen(k_version)}};
    for (const Entry& e : entries) {
        zip_source_t* src = zip_source_buffer(z.get(), e.bytes, e.size, 0);
        if (src == nullptr) {
            return io_error(zip_message(z.get()));
        }
        zip_int64_t index = zip_file_add(z.get(), e.name.c_str(), src, ZIP_FL_ENC_UTF_8);
        if (index < 0) {
            zip_source_free(src);
            return io_error(zip_message(z.get()));
        }
        auto idx = static_cast<zip_uint64_t>(index);
        if (zip_set_file_compression(z.get(), idx, ZIP_CM_STORE, 0) != 0) {
            return io_error(zip_message(z.get()));
        }
        if (&e.name == &data_name &&
            zip_file_extra_field_set(z.get(),
                                     idx,
                                     k_padding_field,
                                     ZIP_EXTRA_FIELD_NEW,
                                     reinterpret_cast<const zip_uint8_t*>(padding.data()),
                                     static_cast<zip_uint16_t>(padding.size()),
                                     ZIP_FL_LOCAL) != 0) {
            return io_error(zip_message(z.get()));
        }
    }
    if (zip_close(z.get()) != 0) {
        return io_error(zip_message(z.get()));
    }
    z.release();  // zip_close freed it
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        return io_error(ec.message());
    }
    return {};
}

}  // namespace cosmos::model
