#include "transfer25_spec.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "log.hpp"
#include "python_error.hpp"
#include "transfer25_log.hpp"

namespace cosmos::emulator {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

constexpr std::uintmax_t k_max_spec_bytes = 16u << 20;   // a .jsonl batch of many samples
constexpr std::uintmax_t k_max_prompt_bytes = 1u << 20;  // a prompt_path text file
constexpr const char* k_load = "main>from_files>_from_file";

constexpr std::string_view k_default_negative_prompt =
    "The video captures a game playing, with bad crappy graphics and cartoonish frames. It "
    "represents a recording of old outdated games. The lighting looks very fake. The textures "
    "are very raw and basic. The geometries are very primitive. The images are very pixelated "
    "and of poor CG quality. There are many subtitles in the footage. Overall, the video is "
    "unrealistic at all.";

FieldDef field(std::string name, FieldKind kind, Json def = nullptr) {
    FieldDef f;
    f.name = std::move(name);
    f.kind = kind;
    f.default_value = std::move(def);
    return f;
}

FieldDef nullable(std::string name, FieldKind kind) {
    FieldDef f = field(std::move(name), kind);
    f.nullable = true;
    return f;
}

FieldDef positive(std::string name, Json def) {
    FieldDef f = field(std::move(name), FieldKind::integer, std::move(def));
    f.positive = true;
    f.nullable = def.is_null();
    return f;
}

std::vector<FieldDef> build_sample_fields() {
    std::vector<FieldDef> f;
    f.push_back(field("name", FieldKind::str));
    f.back().required = true;
    f.push_back(nullable("prompt_path", FieldKind::file));
    f.push_back(field("prompt", FieldKind::str));
    f.back().required = true;
    f.push_back(field("negative_prompt", FieldKind::str, std::string(k_default_negative_prompt)));
    f.push_back(field("seed", FieldKind::integer, 2025));
    f.push_back(field("guidance", FieldKind::integer, 3));
    f.back().ge = 0;
    f.back().le = 7;
    f.push_back(field("video_path", FieldKind::file));
    f.back().required = true;
    f.push_back(positive("max_frames", nullptr));
    f.push_back(positive("context_frame_index", nullptr));
    f.push_back(nullable("image_context_path", FieldKind::file));
    f.push_back(field("num_conditional_frames", FieldKind::choice, 1));
    f.back().choices = {0, 1, 2};
    f.push_back(field("resolution", FieldKind::str, "720"));
    f.push_back(nullable("sigma_max", FieldKind::str));
    f.push_back(positive("num_video_frames_per_chunk", 93));
    f.push_back(positive("num_steps", 35));
    f.push_back(field("show_control_condition", FieldKind::boolean, false));
    f.push_back(field("show_input", FieldKind::boolean, false));
    f.push_back(field("keep_input_resolution", FieldKind::boolean, true));
    for (const char* key : {"edge", "depth", "vis", "seg"}) {
        f.push_back(nullable(key, FieldKind::control));
    }
    f.push_back(nullable("guided_generation_mask", FieldKind::file_or_dir));
    f.push_back(field("guided_generation_step_threshold", FieldKind::integer, 25));
    f.push_back(nullable("guided_generation_foreground_labels", FieldKind::int_list));
    return f;
}

// The fields of one control (ControlConfig and the key's own).
std::vector<FieldDef> control_fields(const std::string& key) {
    static const std::vector<Json> k_levels = {"very_low", "low", "medium", "high", "very_high"};
    std::vector<FieldDef> f;
    f.push_back(nullable("control_path", FieldKind::file));
    f.push_back(field("control_weight", FieldKind::real, 1.0));
    f.push_back(nullable("mask_path", FieldKind::file));
    f.push_back(nullable("mask_prompt", FieldKind::str));
    if (key == "vis" || key == "edge") {
        f.push_back(field(key == "vis" ? "preset_blur_strength" : "preset_edge_threshold",
                          FieldKind::choice,
                          "medium"));
        f.back().choices = k_levels;
    } else if (key == "seg") {
        f.push_back(nullable("control_prompt", FieldKind::str));
    }
    return f;
}

std::string_view py_type_name(const Json& v) {
    if (v.is_string()) {
        return "str";
    }
    if (v.is_boolean()) {
        return "bool";
    }
    if (v.is_number_integer()) {
        return "int";
    }
    if (v.is_number_float()) {
        return "float";
    }
    return v.is_null() ? "NoneType" : v.is_array() ? "list" : "dict";
}

// pydantic shows long inputs cut in the middle.
std::string truncated_repr(const Json& v) {
    std::string r = py_value_repr(v);
    if (r.size() > 50) {
        r = r.substr(0, 25) + "..." + r.substr(r.size() - 24);
    }
    return r;
}

}  // namespace

const std::vector<FieldDef>& sample_fields() {
    static const std::vector<FieldDef> fields = build_sample_fields();
    return fields;
}

const FieldDef* find_sample_field(std::string_view name) {
    for (const FieldDef& f : sample_fields()) {
        if (f.name == name) {
            return &f;
        }
    }
    return nullptr;
}

bool is_override_field(const FieldDef& def) {
    return def.name != "name" && def.kind != FieldKind::control;
}

const std::vector<std::string>& control_keys25() {
    static const std::vector<std::string> keys = {"edge", "vis", "depth", "seg"};
    return keys;
}

std::string py_value_repr(const Json& v) {
    if (v.is_string()) {
        return py_repr(v.get<std::string>());
    }
    if (v.is_boolean()) {
        return v.get<bool>() ? "True" : "False";
    }
    if (v.is_null()) {
        return "None";
    }
    if (v.is_array()) {
        std::vector<std::string> parts;
        for (const auto& item : v) {
            parts.push_back(py_value_repr(item));
        }
        return fmt::format("[{}]", fmt::join(parts, ", "));
    }
    if (v.is_object()) {
        std::vector<std::string> parts;
        for (const auto& [key, item] : v.items()) {
            parts.push_back(py_repr(key) + ": " + py_value_repr(item));
        }
        return fmt::format("{{{}}}", fmt::join(parts, ", "));
    }
    return v.dump();
}

std::string format_validation_errors(std::string_view model,
                                     const std::vector<PydanticError>& errors) {
    std::string out = fmt::format(
        "{} validation error{} for {}\n", errors.size(), errors.size() == 1 ? "" : "s", model);
    for (const PydanticError& e : errors) {
        out += fmt::format(
            "{}\n  {} [type={}, input_value={}, input_type={}]\n"
            "    For further information visit https://errors.pydantic.dev/2.11/v/{}\n",
            e.loc,
            e.message,
            e.type,
            truncated_repr(e.input),
            py_type_name(e.input),
            e.type);
    }
    return out;
}

// ---- validation of one value ----

namespace {

// The text of `path`, refusing files above `cap` bytes (FileNotFoundError when missing).
core::Result<std::string> read_capped(const fs::path& path,
                                      std::uintmax_t cap,
                                      std::string_view where) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        return file_not_found(path.string(), where);
    }
    auto size = fs::file_size(path, ec);
    if (ec || size > cap) {
        return raise_py("OSError",
                        fmt::format("{} is larger than the emulator reads ({} bytes at most)",
                                    py_repr(path.string()),
                                    cap),
                        where);
    }
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

struct Validator {
    fs::path base;  // the spec file's folder: relative paths resolve against it
    bool strict = false;
    Log25* log = nullptr;
    std::vector<PydanticError> errors;

    void error(std::string loc, std::string type, std::string message, const Json& input) {
        errors.push_back({std::move(loc), std::move(type), std::move(message), input});
    }
};

std::string strip(const std::string& s) {
    auto first = s.find_first_not_of(" \t\n\r\f\v");
    if (first == std::string::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(" \t\n\r\f\v") - first + 1);
}

std::optional<Json> to_int(const std::string& loc, const Json& v, Validator& val) {
    if (v.is_boolean()) {
        return Json(v.get<bool>() ? 1 : 0);
    }
    if (v.is_number_integer()) {
        return v;
    }
    if (v.is_number_float()) {
        double d = v.get<double>();
        if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9.2e18) {
            return Json(static_cast<std::int64_t>(d));
        }
        val.error(loc,
                  "int_from_float",
                  "Input should be a valid integer, got a number with a fractional part",
                  v);
        return std::nullopt;
    }
    if (v.is_string()) {
        static const std::regex k_int(R"(^[+-]?\d{1,18}$)");
        std::string s = strip(v.get<std::string>());
        if (std::regex_match(s, k_int)) {
            return Json(std::stoll(s));
        }
        val.error(loc,
                  "int_parsing",
                  "Input should be a valid integer, unable to parse string as an integer",
                  v);
        return std::nullopt;
    }
    val.error(loc, "int_type", "Input should be a valid integer", v);
    return std::nullopt;
}

std::optional<Json> to_float(const std::string& loc, const Json& v, Validator& val) {
    if (v.is_boolean()) {
        return Json(v.get<bool>() ? 1.0 : 0.0);
    }
    if (v.is_number()) {
        return Json(v.get<double>());
    }
    if (v.is_string()) {
        std::string s = strip(v.get<std::string>());
        char* end = nullptr;
        double d = std::strtod(s.c_str(), &end);
        if (!s.empty() && *end == '\0') {
            return Json(d);
        }
        val.error(loc,
                  "float_parsing",
                  "Input should be a valid number, unable to parse string as a number",
                  v);
        return std::nullopt;
    }
    val.error(loc, "float_type", "Input should be a valid number", v);
    return std::nullopt;
}

std::optional<Json> to_bool(const std::string& loc, const Json& v, Validator& val) {
    if (v.is_boolean()) {
        return v;
    }
    if (v.is_number() && (v.get<double>() == 0 || v.get<double>() == 1)) {
        return Json(v.get<double>() == 1);
    }
    if (v.is_string()) {
        std::string s = v.get<std::string>();
        std::transform(s.begin(), s.end(), s.begin(), ::tolower);
        for (const char* yes : {"1", "on", "t", "true", "y", "yes"}) {
            if (s == yes) {
                return Json(true);
            }
        }
        for (const char* no : {"0", "off", "f", "false", "n", "no"}) {
            if (s == no) {
                return Json(false);
            }
        }
    }
    if (v.is_string() || v.is_number()) {
        val.error(
            loc, "bool_parsing", "Input should be a valid boolean, unable to interpret input", v);
    } else {
        val.error(loc, "bool_type", "Input should be a valid boolean", v);
    }
    return std::nullopt;
}

// A path relative to the spec's folder (~ expanded), made absolute as pydantic's validator does.
fs::path resolve_path(const std::string& text, const fs::path& base) {
    fs::path p = text;
    if (text == "~" || text.starts_with("~/")) {
        const char* home = std::getenv("HOME");
        p = fs::path(home != nullptr ? home : "/") /
            text.substr(std::min<std::size_t>(2, text.size()));
    }
    return p.is_absolute() ? p : base / p;
}

std::optional<Json> to_path(const FieldDef& def,
                            const std::string& loc,
                            const Json& v,
                            Validator& val) {
    if (!v.is_string()) {
        val.error(loc, "path_type", "Input is not a valid path", v);
        return std::nullopt;
    }
    fs::path p = resolve_path(v.get<std::string>(), val.base);
    std::error_code ec;
    bool ok = fs::is_regular_file(p, ec) ||
              (def.kind == FieldKind::file_or_dir && fs::is_directory(p, ec));
    if (!ok) {
        val.error(loc, "path_not_file", "Path does not point to a file", v);
        return std::nullopt;
    }
    return Json(p.string());
}

std::string choices_text(const std::vector<Json>& choices) {
    std::string out;
    for (std::size_t i = 0; i < choices.size(); ++i) {
        out += i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ";
        out += py_value_repr(choices[i]);
    }
    return out;
}

std::optional<Json> check_int_bounds(const FieldDef& def,
                                     const std::string& loc,
                                     const Json& v,
                                     Validator& val) {
    std::int64_t n = v.get<std::int64_t>();
    if (def.positive && n <= 0) {
        val.error(loc, "greater_than", "Input should be greater than 0", v);
    } else if (def.ge && n < *def.ge) {
        val.error(loc,
                  "greater_than_equal",
                  fmt::format("Input should be greater than or equal to {}", *def.ge),
                  v);
    } else if (def.le && n > *def.le) {
        val.error(loc,
                  "less_than_equal",
                  fmt::format("Input should be less than or equal to {}", *def.le),
                  v);
    } else {
        return v;
    }
    return std::nullopt;
}

std::optional<Json> to_int_list(const std::string& loc, const Json& v, Validator& val) {
    if (!v.is_array()) {
        val.error(loc, "list_type", "Input should be a valid list", v);
        return std::nullopt;
    }
    Json out = Json::array();
    bool ok = true;
    for (std::size_t i = 0; i < v.size(); ++i) {
        auto item = to_int(fmt::format("{}.{}", loc, i), v[i], val);
        ok = ok && item.has_value();
        if (item) {
            out.push_back(*item);
        }
    }
    return ok ? std::optional<Json>(out) : std::nullopt;
}

std::optional<Json> validate_control(const std::string& key, const Json& v, Validator& val);

std::optional<Json> validate_value(const FieldDef& def,
                                   const std::string& loc,
                                   const Json& v,
                                   Validator& val) {
    if (v.is_null() && def.nullable) {
        return v;
    }
    switch (def.kind) {
        case FieldKind::str:
            if (v.is_string()) {
                return v;
            }
            val.error(loc, "string_type", "Input should be a valid string", v);
            return std::nullopt;
        case FieldKind::integer: {
            auto n = to_int(loc, v, val);
            return n ? check_int_bounds(def, loc, *n, val) : std::nullopt;
        }
        case FieldKind::real:
            return to_float(loc, v, val);
        case FieldKind::boolean:
            return to_bool(loc, v, val);
        case FieldKind::file:
        case FieldKind::file_or_dir:
            return to_path(def, loc, v, val);
        case FieldKind::int_list:
            return to_int_list(loc, v, val);
        case FieldKind::choice:
            if (std::find(def.choices.begin(), def.choices.end(), v) != def.choices.end()) {
                return v;
            }
            val.error(loc, "literal_error", "Input should be " + choices_text(def.choices), v);
            return std::nullopt;
        case FieldKind::control:
            return validate_control(def.name, v, val);
    }
    return std::nullopt;
}

void check_weight_range(const std::string& loc, const Json& value, const Json& w, Validator& val) {
    double d = value.get<double>();
    if (d < 0) {
        val.error(loc, "greater_than_equal", "Input should be greater than or equal to 0", w);
    } else if (d > 1) {
        val.error(loc, "less_than_equal", "Input should be less than or equal to 1", w);
    }
}

std::optional<Json> validate_control(const std::string& key, const Json& v, Validator& val) {
    static const std::map<std::string, std::string> k_class = {{"edge", "EdgeConfig"},
                                                               {"depth", "DepthConfig"},
                                                               {"vis", "BlurConfig"},
                                                               {"seg", "SegConfig"}};
    if (!v.is_object()) {
        val.error(
            key,
            "model_type",
            fmt::format("Input should be a valid dictionary or instance of {}", k_class.at(key)),
            v);
        return std::nullopt;
    }
    const std::size_t before = val.errors.size();
    Json out = Json::object();
    std::vector<FieldDef> fields = control_fields(key);
    for (const FieldDef& f : fields) {
        std::string loc = key + "." + f.name;
        if (!v.contains(f.name)) {
            out[f.name] = f.default_value;
        } else if (auto value = validate_value(f, loc, v[f.name], val)) {
            out[f.name] = *value;
            if (f.name == "control_weight") {
                check_weight_range(loc, *value, v[f.name], val);
            }
        }
    }
    for (const auto& [name, value] : v.items()) {
        const std::string& field = name;  // clang 14 does not capture structured bindings
        bool known = std::any_of(
            fields.begin(), fields.end(), [&](const FieldDef& f) { return f.name == field; });
        if (known) {
            continue;
        }
        if (val.strict) {
            val.error(key + "." + name, "extra_forbidden", "Extra inputs are not permitted", value);
        } else {
            val.log->line(Level::warning,
                          LogSite{sites25::k_config, 457, "validate_control"},
                          fmt::format("Ignoring unknown key {} of control {} (pydantic ignores it; "
                                      "COSMOS_EMULATOR_STRICT=1 refuses it)",
                                      py_repr(name),
                                      py_repr(key)));
        }
    }
    return val.errors.size() == before ? std::optional<Json>(out) : std::nullopt;
}

// ---- one sample ----

// validate_prompt (a "before" validator): without a prompt, prompt_path's text becomes it.
core::Status fill_prompt(Json& data, const fs::path& base) {
    if (data.contains("prompt") && !data["prompt"].is_null()) {
        return {};
    }
    if (!data.contains("prompt_path") || data["prompt_path"].is_null()) {
        return {};
    }
    if (!data["prompt_path"].is_string()) {
        return raise_py("TypeError",
                        fmt::format("expected str, bytes or os.PathLike object, not {}",
                                    py_type_name(data["prompt_path"])),
                        "main>from_files>_from_file>model_validate>validate_prompt");
    }
    fs::path path = resolve_path(data["prompt_path"].get<std::string>(), base);
    std::string text;
    COSMOS_TRY(text, read_capped(path, k_max_prompt_bytes, "validate_prompt>read_text"));
    data["prompt"] = strip(text);
    return {};
}

// model_post_init: at least one control, and vis not with image_context_path (a ValueError
// raised outside pydantic's validation, so a traceback).
core::Status post_init(const Json& args, std::vector<std::string>& hint_keys) {
    for (const std::string& key : control_keys25()) {
        if (!args[key].is_null()) {
            hint_keys.push_back(key);
        }
    }
    const char* where = "main>from_files>_from_file>model_validate>model_post_init";
    if (hint_keys.empty()) {
        return raise_py("ValueError",
                        "No controls provided, please provide at least one control key (edge, "
                        "blur, depth, seg)",
                        where);
    }
    if (!args["vis"].is_null() && !args["image_context_path"].is_null()) {
        return raise_py("ValueError",
                        "vis control and image_context_path are both used to transfer style. "
                        "Using these modes together leads to conflicts. Please only provide one",
                        where);
    }
    return {};
}

void check_fields(const Json& data, Json& out, Validator& val) {
    for (const FieldDef& f : sample_fields()) {
        if (!data.contains(f.name)) {
            if (f.required) {
                val.error(f.name, "missing", "Field required", data);
            } else {
                out[f.name] = f.default_value;
            }
        } else if (auto value = validate_value(f, f.name, data[f.name], val)) {
            out[f.name] = *value;
        }
    }
    for (const auto& [key, value] : data.items()) {
        if (find_sample_field(key) == nullptr) {
            val.error(key, "extra_forbidden", "Extra inputs are not permitted", value);
        }
    }
}

// One object of a spec file: pydantic errors go to `val.errors`; a Python exception fails.
core::Result<std::optional<Sample25>> validate_sample(Json data, Validator& val) {
    core::Status prompt = fill_prompt(data, val.base);
    if (!prompt) {
        return core::fail(std::move(prompt).error());
    }
    Sample25 s;
    s.args = Json::object();
    check_fields(data, s.args, val);
    if (!val.errors.empty()) {
        return std::optional<Sample25>();
    }
    core::Status ok = post_init(s.args, s.hint_keys);
    if (!ok) {
        return core::fail(std::move(ok).error());
    }
    return std::optional<Sample25>(std::move(s));
}

// The objects of one -i file: one per .json, one per line of a .jsonl.
core::Result<std::vector<Json>> read_objects(const std::string& file) {
    fs::path path = file;
    std::string ext = path.extension().string();
    if (ext != ".json" && ext != ".jsonl") {
        return raise_py("ValueError", fmt::format("Unsupported file extension: {}", ext), k_load);
    }
    COSMOS_TRY(std::string text,
               read_capped(path, k_max_spec_bytes, "main>from_files>_from_file>read_text"));
    std::vector<std::string> docs;
    if (ext == ".json") {
        docs.push_back(text);
    } else {
        std::stringstream lines(text);
        for (std::string line; std::getline(lines, line);) {
            docs.push_back(line);
        }
    }
    std::vector<Json> out;
    for (std::size_t i = 0; i < docs.size(); ++i) {
        auto json = Json::parse(docs[i], nullptr, false);
        if (json.is_discarded()) {
            return raise_py("json.decoder.JSONDecodeError",
                            fmt::format("Expecting value: could not parse {}{} as JSON",
                                        py_repr(file),
                                        ext == ".jsonl" ? fmt::format(" line {}", i + 1) : ""),
                            "main>from_files>_from_file>loads");
        }
        out.push_back(std::move(json));
    }
    return out;
}

// The folder relative paths of `file` resolve against (the real script chdirs into it).
fs::path base_of(const std::string& file) {
    std::error_code ec;
    fs::path parent = fs::path(file).parent_path();
    fs::path base = fs::weakly_canonical(fs::absolute(parent.empty() ? "." : parent, ec), ec);
    return base;
}

core::Status from_file(const std::string& file,
                       const Json& overrides,
                       Validator& val,
                       std::vector<Sample25>& out) {
    COSMOS_TRY(std::vector<Json> objects, read_objects(file));
    val.base = base_of(file);
    for (std::size_t i = 0; i < objects.size(); ++i) {
        if (!objects[i].is_object()) {
            return raise_py("TypeError",
                            fmt::format("unsupported operand type(s) for |: '{}' and 'dict'",
                                        py_type_name(objects[i])),
                            k_load);
        }
        Json data = objects[i];
        for (const auto& [key, value] : overrides.items()) {
            data[key] = value;
        }
        val.errors.clear();
        COSMOS_TRY(auto sample, validate_sample(std::move(data), val));
        if (!sample) {
            return core::fail(
                core::ErrorCode::config,
                fmt::format("Error validating parameters from {} at line {}\n{}",
                            py_repr(file),
                            i,
                            format_validation_errors("InferenceArguments", val.errors)));
        }
        out.push_back(std::move(*sample));
    }
    return {};
}

}  // namespace

core::Result<Batch25> load_batch25(const std::vector<std::string>& files,
                                   const Json& overrides,
                                   bool strict,
                                   Log25& log) {
    Validator val;
    val.strict = strict;
    val.log = &log;
    Batch25 batch;
    for (const std::string& file : files) {
        core::Status read = from_file(file, overrides, val, batch.samples);
        if (!read) {
            return core::fail(std::move(read).error());
        }
    }
    if (batch.samples.empty()) {
        return core::fail(core::ErrorCode::config, "Error: No inference samples\n");
    }
    std::vector<std::string> names;
    for (const Sample25& s : batch.samples) {
        std::string name = s.args["name"].get<std::string>();
        if (std::find(names.begin(), names.end(), name) != names.end()) {
            return core::fail(core::ErrorCode::config,
                              fmt::format("Error: Inference samplename {} is not unique\n", name));
        }
        names.push_back(name);
    }
    for (const std::string& key : control_keys25()) {
        bool used = std::any_of(batch.samples.begin(), batch.samples.end(), [&](const Sample25& s) {
            return std::find(s.hint_keys.begin(), s.hint_keys.end(), key) != s.hint_keys.end();
        });
        if (used) {
            batch.hint_keys.push_back(key);
        }
    }
    return batch;
}

}  // namespace cosmos::emulator
