#include "weight_tensor.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <system_error>

#include <zip.h>

#include <fmt/format.h>

#include "log.hpp"
#include "python_error.hpp"

namespace cosmos::emulator {

namespace {

// A Python object as far as this reader needs one.
struct PyObj {
    enum class Kind { none, boolean, integer, text, global, tuple, persistent, call, dict, mark };
    Kind kind = Kind::none;
    std::int64_t number = 0;
    std::string text;          // str value, or "module.name" of a global
    std::vector<PyObj> items;  // tuple items; call: [callable, args]; persistent: [pid]
};

struct Unpickler {
    const std::string& data;
    std::size_t at = 0;
    std::vector<PyObj> stack;
    std::map<std::int64_t, PyObj> memo;

    core::Unexpected error(std::string what) const {
        return raise_py("_pickle.UnpicklingError", what, "torch.load");
    }
    bool take(std::size_t n, std::string_view& out) {
        if (data.size() - at < n) {
            return false;
        }
        out = std::string_view(data).substr(at, n);
        at += n;
        return true;
    }
    bool le(int bytes, std::uint64_t& out) {
        std::string_view b;
        if (!take(static_cast<std::size_t>(bytes), b)) {
            return false;
        }
        out = 0;
        for (int i = bytes - 1; i >= 0; --i) {
            out = (out << 8) | static_cast<unsigned char>(b[static_cast<std::size_t>(i)]);
        }
        return true;
    }
    bool line(std::string& out) {
        std::size_t nl = data.find('\n', at);
        if (nl == std::string::npos) {
            return false;
        }
        out = data.substr(at, nl - at);
        at = nl + 1;
        return true;
    }
    // Pops back to the last MARK; the items above it in order.
    bool pop_mark(std::vector<PyObj>& out) {
        for (std::size_t i = stack.size(); i-- > 0;) {
            if (stack[i].kind == PyObj::Kind::mark) {
                out.assign(std::make_move_iterator(stack.begin() + static_cast<long>(i) + 1),
                           std::make_move_iterator(stack.end()));
                stack.resize(i);
                return true;
            }
        }
        return false;
    }
    bool pop(PyObj& out) {
        if (stack.empty() || stack.back().kind == PyObj::Kind::mark) {
            return false;
        }
        out = std::move(stack.back());
        stack.pop_back();
        return true;
    }

    core::Result<PyObj> run() {
        const core::Unexpected truncated = error("pickle data was truncated");
        while (at < data.size()) {
            auto op = static_cast<unsigned char>(data[at++]);
            std::uint64_t n = 0;
            std::string_view bytes;
            switch (op) {
                case 0x80:  // PROTO
                    if (!le(1, n)) {
                        return truncated;
                    }
                    break;
                case 0x95:  // FRAME
                    if (!le(8, n)) {
                        return truncated;
                    }
                    break;
                case '.': {  // STOP
                    PyObj top;
                    if (!pop(top)) {
                        return error("STOP with an empty stack");
                    }
                    return top;
                }
                case '(':
                    stack.push_back({PyObj::Kind::mark});
                    break;
                case 'N':
                    stack.push_back({PyObj::Kind::none});
                    break;
                case 0x88:
                case 0x89:
                    stack.push_back({PyObj::Kind::boolean, op == 0x88 ? 1 : 0});
                    break;
                case 'K':
                case 'M':
                case 'J': {
                    int width = op == 'K' ? 1 : op == 'M' ? 2 : 4;
                    if (!le(width, n)) {
                        return truncated;
                    }
                    std::int64_t v =
                        width == 4 ? static_cast<std::int32_t>(n) : static_cast<std::int64_t>(n);
                    stack.push_back({PyObj::Kind::integer, v});
                    break;
                }
                case 0x8a: {  // LONG1
                    if (!le(1, n) || n > 8 || !take(n, bytes)) {
                        return n > 8 ? error("integer too large") : truncated;
                    }
                    std::uint64_t u = 0;
                    for (std::size_t i = bytes.size(); i-- > 0;) {
                        u = (u << 8) | static_cast<unsigned char>(bytes[i]);
                    }
                    if (!bytes.empty() && n < 8 && (bytes.back() & 0x80) != 0) {
                        u |= ~std::uint64_t{0} << (8 * n);
                    }
                    stack.push_back({PyObj::Kind::integer, static_cast<std::int64_t>(u)});
                    break;
                }
                case 'X':
                case 0x8c: {  // BINUNICODE, SHORT_BINUNICODE
                    if (!le(op == 'X' ? 4 : 1, n) || !take(n, bytes)) {
                        return truncated;
                    }
                    stack.push_back({PyObj::Kind::text, 0, std::string(bytes)});
                    break;
                }
                case 'c': {  // GLOBAL
                    std::string module, name;
                    if (!line(module) || !line(name)) {
                        return truncated;
                    }
                    stack.push_back({PyObj::Kind::global, 0, module + "." + name});
                    break;
                }
                case 0x93: {  // STACK_GLOBAL
                    PyObj name, module;
                    if (!pop(name) || !pop(module)) {
                        return error("STACK_GLOBAL needs two strings");
                    }
                    stack.push_back({PyObj::Kind::global, 0, module.text + "." + name.text});
                    break;
                }
                case 'q':
                case 'r':
                case 0x94: {  // BINPUT, LONG_BINPUT, MEMOIZE
                    if (op != 0x94 && !le(op == 'q' ? 1 : 4, n)) {
                        return truncated;
                    }
                    if (stack.empty()) {
                        return error("memo put with an empty stack");
                    }
                    memo[op == 0x94 ? static_cast<std::int64_t>(memo.size())
                                    : static_cast<std::int64_t>(n)] = stack.back();
                    break;
                }
                case 'h':
                case 'j': {  // BINGET, LONG_BINGET
                    if (!le(op == 'h' ? 1 : 4, n)) {
                        return truncated;
                    }
                    auto it = memo.find(static_cast<std::int64_t>(n));
                    if (it == memo.end()) {
                        return error(fmt::format("Memo value not found at index {}", n));
                    }
                    stack.push_back(it->second);
                    break;
                }
                case ')':
                    stack.push_back({PyObj::Kind::tuple});
                    break;
                case '}':
                    stack.push_back({PyObj::Kind::dict});
                    break;
                case 's':
                case 'u': {  // SETITEM, SETITEMS: a dict's contents (a dict is never a tensor)
                    std::vector<PyObj> items(2);
                    if (op == 'u' ? !pop_mark(items) : !pop(items[1]) || !pop(items[0])) {
                        return error("SETITEM without a dict");
                    }
                    if (stack.empty() || stack.back().kind != PyObj::Kind::dict) {
                        return error("SETITEM without a dict");
                    }
                    break;
                }
                case 't': {
                    PyObj t{PyObj::Kind::tuple};
                    if (!pop_mark(t.items)) {
                        return error("could not find MARK");
                    }
                    stack.push_back(std::move(t));
                    break;
                }
                case 0x85:
                case 0x86:
                case 0x87: {  // TUPLE1..3
                    std::size_t count = op - 0x84U;
                    PyObj t{PyObj::Kind::tuple};
                    t.items.resize(count);
                    for (std::size_t i = count; i-- > 0;) {
                        if (!pop(t.items[i])) {
                            return error("tuple with too few items on the stack");
                        }
                    }
                    stack.push_back(std::move(t));
                    break;
                }
                case 'Q': {  // BINPERSID
                    PyObj pid;
                    if (!pop(pid)) {
                        return error("BINPERSID with an empty stack");
                    }
                    stack.push_back({PyObj::Kind::persistent, 0, {}, {std::move(pid)}});
                    break;
                }
                case 'R': {  // REDUCE
                    PyObj args, fn;
                    if (!pop(args) || !pop(fn) || args.kind != PyObj::Kind::tuple) {
                        return error("REDUCE needs a callable and a tuple");
                    }
                    stack.push_back({PyObj::Kind::call, 0, {}, {std::move(fn), std::move(args)}});
                    break;
                }
                default:
                    return error(fmt::format(
                        "cosmos-emulator reads only what torch.save writes; opcode {} at byte {}",
                        py_repr(std::string(1, static_cast<char>(op))),
                        at - 1));
            }
        }
        return truncated;
    }
};

struct ZipDiscard {
    void operator()(zip_t* z) const { zip_discard(z); }
};

std::string dims(const std::vector<std::int64_t>& shape) {
    return fmt::format("torch.Size([{}])", fmt::join(shape, ", "));
}

const std::map<std::string, std::pair<std::string, std::string>>& storage_types() {
    // storage class -> (torch dtype, the scalar type's name in PyTorch's errors)
    static const std::map<std::string, std::pair<std::string, std::string>> m = {
        {"torch.FloatStorage", {"float32", "Float"}},
        {"torch.DoubleStorage", {"float64", "Double"}},
        {"torch.HalfStorage", {"float16", "Half"}},
        {"torch.BFloat16Storage", {"bfloat16", "BFloat16"}},
        {"torch.LongStorage", {"int64", "Long"}},
        {"torch.IntStorage", {"int32", "Int"}},
        {"torch.ShortStorage", {"int16", "Short"}},
        {"torch.CharStorage", {"int8", "Char"}},
        {"torch.ByteStorage", {"uint8", "Byte"}},
        {"torch.BoolStorage", {"bool", "Bool"}},
    };
    return m;
}

core::Result<std::string> read_entry(zip_t* z, const std::string& name, std::string_view where) {
    zip_stat_t st;
    if (zip_stat(z, name.c_str(), 0, &st) != 0) {
        return raise_py("RuntimeError",
                        fmt::format("PytorchStreamReader failed locating file {}: file not found",
                                    name.substr(name.find('/') + 1)),
                        where);
    }
    if (st.size > static_cast<zip_uint64_t>(k_max_weight_file)) {
        return raise_py("RuntimeError", fmt::format("record {} is too large", name), where);
    }
    std::string out(st.size, '\0');
    zip_file_t* f = zip_fopen_index(z, st.index, 0);
    zip_int64_t got = f != nullptr ? zip_fread(f, out.data(), st.size) : -1;
    if (f != nullptr) {
        zip_fclose(f);
    }
    if (got != static_cast<zip_int64_t>(st.size)) {
        return raise_py(
            "RuntimeError", fmt::format("PytorchStreamReader failed reading file {}", name), where);
    }
    return out;
}

}  // namespace

core::Result<WeightTensor> read_weight_tensor(const std::string& key,
                                              const std::string& path,
                                              std::string_view where) {
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    if (ec || !std::filesystem::is_regular_file(path, ec)) {
        return file_not_found(path, where);
    }
    if (size > static_cast<std::uintmax_t>(k_max_weight_file)) {
        return raise_py("RuntimeError",
                        fmt::format("control_weight of {}: {} is {} bytes, above the "
                                    "emulator's limit of {}",
                                    key,
                                    py_repr(path),
                                    size,
                                    k_max_weight_file),
                        where);
    }
    int zerr = 0;
    std::unique_ptr<zip_t, ZipDiscard> z(zip_open(path.c_str(), ZIP_RDONLY, &zerr));
    if (!z) {
        // torch.load falls back to the legacy format, whose first read is a pickle.
        if (size == 0) {
            return raise_py("EOFError", "Ran out of input", where);
        }
        std::ifstream in(path, std::ios::binary);
        char first = '\0';
        in.get(first);
        return raise_py("_pickle.UnpicklingError",
                        fmt::format("invalid load key, {}.", py_repr(std::string(1, first))),
                        where);
    }
    zip_int64_t entries = zip_get_num_entries(z.get(), 0);
    if (entries <= 0) {
        return raise_py("RuntimeError", "archive does not contain any files", where);
    }
    std::string first = zip_get_name(z.get(), 0, 0);
    auto slash = first.find('/');
    if (slash == std::string::npos) {
        return raise_py("RuntimeError",
                        fmt::format("file in archive is not in a subdirectory: {}", first),
                        where);
    }
    std::string folder = first.substr(0, slash + 1);
    COSMOS_TRY(std::string version, read_entry(z.get(), folder + "version", where));
    if (version != "3\n" && version != "3" && version != "2\n" && version != "1\n") {
        return raise_py("RuntimeError",
                        fmt::format("unsupported PyTorch file version {}", py_repr(version)),
                        where);
    }
    zip_stat_t order_stat;
    if (zip_stat(z.get(), (folder + "byteorder").c_str(), 0, &order_stat) == 0) {
        COSMOS_TRY(std::string order, read_entry(z.get(), folder + "byteorder", where));
        if (order != "little") {
            return raise_py(
                "ValueError", fmt::format("Unknown endianness type: {}", py_repr(order)), where);
        }
    }
    COSMOS_TRY(std::string pickle, read_entry(z.get(), folder + "data.pkl", where));
    Unpickler unpickler{pickle};
    COSMOS_TRY(PyObj top, unpickler.run());

    auto not_tensor = [&] {
        return raise_py(
            "TypeError",
            fmt::format("control_weight of {}: {} does not hold a tensor", key, py_repr(path)),
            where);
    };
    if (top.kind != PyObj::Kind::call || top.items[0].kind != PyObj::Kind::global ||
        top.items[0].text != "torch._utils._rebuild_tensor_v2" || top.items[1].items.size() < 4) {
        return not_tensor();
    }
    const auto& args = top.items[1].items;
    const PyObj& storage = args[0];
    if (storage.kind != PyObj::Kind::persistent || storage.items[0].kind != PyObj::Kind::tuple ||
        storage.items[0].items.size() != 5) {
        return not_tensor();
    }
    const auto& pid = storage.items[0].items;
    if (pid[0].text != "storage" || pid[1].kind != PyObj::Kind::global ||
        pid[2].kind != PyObj::Kind::text || pid[4].kind != PyObj::Kind::integer ||
        args[1].kind != PyObj::Kind::integer || args[2].kind != PyObj::Kind::tuple ||
        args[3].kind != PyObj::Kind::tuple) {
        return not_tensor();
    }
    auto type = storage_types().find(pid[1].text);
    if (type == storage_types().end()) {
        return raise_py(
            "_pickle.UnpicklingError", fmt::format("unknown storage type {}", pid[1].text), where);
    }
    WeightTensor t;
    t.dtype = type->second.first;
    for (const PyObj& d : args[2].items) {
        if (d.kind != PyObj::Kind::integer || d.number < 0) {
            return not_tensor();
        }
        t.shape.push_back(d.number);
    }
    if (t.dtype != "float32") {
        // The model multiplies its float32 control features by the weight.
        return raise_py("RuntimeError",
                        fmt::format("expected scalar type Float but found {} (control_weight of "
                                    "{}: {} is a {} tensor)",
                                    type->second.second,
                                    key,
                                    py_repr(path),
                                    t.dtype),
                        where);
    }
    if (t.shape.size() != 2 && t.shape.size() != 3) {
        return raise_py("ValueError",
                        fmt::format("control_weight tensor of {} must have shape [H,W] or "
                                    "[T,H,W], got {}",
                                    key,
                                    dims(t.shape)),
                        where);
    }
    std::int64_t numel = 1;
    for (std::int64_t d : t.shape) {
        if (d == 0 || numel > k_max_weight_file / 4 / d) {
            return raise_py("ValueError",
                            fmt::format("control_weight tensor of {} has shape {}: empty or "
                                        "too large",
                                        key,
                                        dims(t.shape)),
                            where);
        }
        numel *= d;
    }
    std::int64_t expected_stride = 1;
    for (std::size_t i = t.shape.size(); i-- > 0;) {
        const auto& s = args[3].items;
        if (s.size() != t.shape.size() || s[i].number != expected_stride) {
            return raise_py("RuntimeError",
                            fmt::format("control_weight tensor of {} is not contiguous "
                                        "(cosmos-emulator reads contiguous tensors only)",
                                        key),
                            where);
        }
        expected_stride *= t.shape[i];
    }
    std::int64_t offset = args[1].number;
    COSMOS_TRY(std::string bytes, read_entry(z.get(), folder + "data/" + pid[2].text, where));
    auto needed = static_cast<std::size_t>(offset + numel) * 4;
    if (offset < 0 || pid[4].number < offset + numel || bytes.size() < needed) {
        return raise_py("RuntimeError",
                        fmt::format("storage of {} holds {} bytes, {} needed for {}",
                                    key,
                                    bytes.size(),
                                    needed,
                                    dims(t.shape)),
                        where);
    }
    t.values.resize(static_cast<std::size_t>(numel));
    const auto* raw = reinterpret_cast<const unsigned char*>(bytes.data()) + offset * 4;
    for (std::size_t i = 0; i < t.values.size(); ++i) {
        std::uint32_t u = raw[4 * i] | (raw[4 * i + 1] << 8) | (raw[4 * i + 2] << 16) |
                          (static_cast<std::uint32_t>(raw[4 * i + 3]) << 24);
        float f = 0;
        std::memcpy(&f, &u, 4);
        if (!std::isfinite(f) || f < 0) {
            std::vector<std::int64_t> index(t.shape.size());
            auto rest = static_cast<std::int64_t>(i);
            for (std::size_t d = t.shape.size(); d-- > 0;) {
                index[d] = rest % t.shape[d];
                rest /= t.shape[d];
            }
            return raise_py("ValueError",
                            fmt::format("control_weight tensor of {} must be finite and >= 0; "
                                        "element [{}] is {}",
                                        key,
                                        fmt::join(index, ", "),
                                        f),
                            where);
        }
        t.values[i] = f;
    }
    return t;
}

nlohmann::ordered_json weight_tensor_summary(const std::string& key,
                                             const std::string& path,
                                             const WeightTensor& tensor) {
    nlohmann::ordered_json j;
    j["modality"] = key;
    j["path"] = path;
    j["dtype"] = tensor.dtype;
    j["shape"] = tensor.shape;
    j["numel"] = tensor.values.size();
    float lo = tensor.values.empty() ? 0 : tensor.values.front();
    float hi = lo;
    for (float v : tensor.values) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    j["min"] = lo;
    j["max"] = hi;
    std::vector<float> first(
        tensor.values.begin(),
        tensor.values.begin() + static_cast<long>(std::min<std::size_t>(8, tensor.values.size())));
    j["first"] = first;
    j["last"] = tensor.values.empty() ? 0.0F : tensor.values.back();
    return j;
}

}  // namespace cosmos::emulator
