// Batch files (see batch_file.hpp): JSON read with nlohmann::json, TOML with toml++ (converted
// to the same JSON, with each key's line kept for messages); one reader turns an entry into a
// SubmitEntry and rejects unknown keys and wrong types.

#include "services/batch_file.hpp"

#include <cstdint>
#include <limits>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "core/read_file.hpp"
#include "model/upscale_command.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;
using nlohmann::json;

namespace {

constexpr const char* k_keys =
    "prompt_id, prompt, weights, num_steps, guidance, sigma_max, seed, fps, blur_strength, "
    "canny_threshold, num_gpus, offload, host, priority, upscale";

// Where an entry is: "FILE: entry N" or, with a line, "FILE:LINE: entry N".
struct EntryPlace {
    std::string file;
    std::size_t index = 0;  // 1-based
    int line = 0;           // TOML: the [[runs]] header
    std::map<std::string, int> key_lines;

    std::string at(const std::string& key = {}) const {
        auto it = key_lines.find(key);
        int l = it != key_lines.end() ? it->second : line;
        return l > 0 ? fmt::format("{}:{}: entry {}", file, l, index)
                     : fmt::format("{}: entry {}", file, index);
    }
};

core::Unexpected bad(const EntryPlace& place, const std::string& key, const std::string& what) {
    return fail(ErrorCode::invalid_input,
                fmt::format("{}: {}", place.at(key), what),
                fmt::format("entry keys: {} (docs/submit.md)", k_keys));
}

// Reads one entry; every key must be known and its value of the key's type.
class EntryReader {
public:
    explicit EntryReader(const EntryPlace& place) : m_place(place) {}

    core::Result<SubmitEntry> read(const json& j) const {
        if (!j.is_object()) {
            return bad(
                m_place, "", fmt::format("an entry must be an object, not {}", j.type_name()));
        }
        SubmitEntry e;
        e.origin = m_place.at();
        bool have_prompt = false;
        for (const auto& [key, v] : j.items()) {
            COSMOS_TRY(bool is_param, read_param(key, v, e.options));
            if (is_param) {
                continue;
            }
            if (key == "prompt_id" || key == "prompt") {
                if (have_prompt) {
                    return bad(m_place, key, "give prompt_id or prompt, not both");
                }
                have_prompt = true;
                COSMOS_TRY(e.prompt, text(key, v));
            } else if (key == "host") {
                COSMOS_TRY(e.queue.host, text(key, v));
            } else if (key == "priority") {
                COSMOS_TRY(auto p, integer(key, v));
                if (p < std::numeric_limits<int>::min() || p > std::numeric_limits<int>::max()) {
                    return bad(m_place, key, fmt::format("priority {} is out of range", p));
                }
                e.queue.priority = static_cast<int>(p);
            } else if (key == "upscale") {
                if (!v.is_boolean()) {
                    COSMOS_TRY(e.upscale, number(key, v));
                } else if (v.get<bool>()) {
                    e.upscale = model::k_default_upscale_weight;
                }
            } else {
                return bad(m_place, key, fmt::format("unknown key '{}'", key));
            }
        }
        if (!have_prompt) {
            return bad(m_place, "", "the entry names no prompt (prompt_id, or prompt: a name)");
        }
        return e;
    }

private:
    // Reads `key` when it is a run parameter (a field of RunParams' JSON); false otherwise.
    core::Result<bool> read_param(const std::string& key, const json& v, RunOptions& o) const {
        if (key == "weights") {
            if (!v.is_object()) {
                return bad(
                    m_place,
                    key,
                    fmt::format("weights must be a table of modality = weight, not {}", v.dump()));
            }
            for (const auto& [m, w] : v.items()) {
                COSMOS_TRY(o.weight[m], number("weights." + m, w));
            }
        } else if (key == "num_steps") {
            COSMOS_TRY(o.num_steps, integer(key, v));
        } else if (key == "guidance") {
            COSMOS_TRY(o.guidance, number(key, v));
        } else if (key == "sigma_max") {
            COSMOS_TRY(o.sigma_max, number(key, v));
        } else if (key == "seed") {
            COSMOS_TRY(o.seed, integer(key, v));
        } else if (key == "fps") {
            COSMOS_TRY(o.fps, integer(key, v));
        } else if (key == "num_gpus") {
            COSMOS_TRY(o.num_gpus, integer(key, v));
        } else if (key == "blur_strength") {
            COSMOS_TRY(o.blur_strength, text(key, v));
        } else if (key == "canny_threshold") {
            COSMOS_TRY(o.canny_threshold, text(key, v));
        } else if (key == "model" || key == "variant" || key == "resolution") {
            COSMOS_TRY(auto name, text(key, v));
            (key == "model" ? o.model : key == "variant" ? o.variant : o.resolution) = name;
        } else if (key == "max_frames") {
            COSMOS_TRY(o.max_frames, integer(key, v));
        } else if (key == "num_video_frames_per_chunk") {
            COSMOS_TRY(o.chunk_frames, integer(key, v));
        } else if (key == "num_conditional_frames") {
            COSMOS_TRY(o.conditional_frames, integer(key, v));
        } else if (key == "offload") {
            if (!v.is_array()) {
                return bad(
                    m_place, key, fmt::format("offload must be a list of names, not {}", v.dump()));
            }
            std::vector<std::string> names;
            for (const auto& item : v) {
                COSMOS_TRY(auto name, text("offload", item));
                names.push_back(std::move(name));
            }
            o.offload = std::move(names);
        } else {
            return false;
        }
        return true;
    }

    core::Result<std::int64_t> integer(const std::string& key, const json& v) const {
        if (!v.is_number_integer()) {
            return bad(m_place, key, fmt::format("{} must be an integer, not {}", key, v.dump()));
        }
        return v.get<std::int64_t>();
    }
    core::Result<double> number(const std::string& key, const json& v) const {
        if (!v.is_number()) {
            return bad(m_place, key, fmt::format("{} must be a number, not {}", key, v.dump()));
        }
        return v.get<double>();
    }
    core::Result<std::string> text(const std::string& key, const json& v) const {
        if (!v.is_string()) {
            return bad(m_place, key, fmt::format("{} must be a string, not {}", key, v.dump()));
        }
        return v.get<std::string>();
    }

    const EntryPlace& m_place;
};

// TOML value -> JSON (tables, arrays, strings, numbers, booleans; dates are refused).
core::Result<json> toml_to_json(const toml::node& n, const std::string& where) {
    if (const auto* t = n.as_table()) {
        json obj = json::object();
        for (auto&& [k, v] : *t) {
            COSMOS_TRY(obj[std::string(k.str())], toml_to_json(v, where));
        }
        return obj;
    }
    if (const auto* a = n.as_array()) {
        json arr = json::array();
        for (auto&& v : *a) {
            COSMOS_TRY(auto item, toml_to_json(v, where));
            arr.push_back(std::move(item));
        }
        return arr;
    }
    if (const auto* s = n.as_string()) {
        return json(s->get());
    }
    if (const auto* i = n.as_integer()) {
        return json(i->get());
    }
    if (const auto* f = n.as_floating_point()) {
        return json(f->get());
    }
    if (const auto* b = n.as_boolean()) {
        return json(b->get());
    }
    return fail(ErrorCode::invalid_input,
                fmt::format("{}: dates and times are not run parameters", where),
                fmt::format("entry keys: {} (docs/submit.md)", k_keys));
}

core::Unexpected not_a_list(const std::string& name, std::string_view format) {
    return fail(ErrorCode::invalid_input,
                fmt::format("{}: a batch file holds a list of runs", name),
                format == "toml" ? "write one [[runs]] table per run (docs/submit.md)"
                                 : "write an array of runs, or {\"runs\": [...]} (docs/submit.md)");
}

}  // namespace

core::Result<std::vector<SubmitEntry>> parse_batch_json(std::string_view text,
                                                        const std::string& name) {
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a 1e400
        return fail(ErrorCode::invalid_input,
                    fmt::format("{}: not valid JSON: {}", name, e.what()));
    }
    const json* runs = &doc;
    if (doc.is_object()) {
        for (const auto& [key, v] : doc.items()) {
            if (key != "runs") {
                return fail(ErrorCode::invalid_input,
                            fmt::format("{}: unknown key '{}'", name, key),
                            "the top level is an array of runs, or {\"runs\": [...]}");
            }
        }
        if (!doc.contains("runs")) {
            return not_a_list(name, "json");
        }
        runs = &doc["runs"];
    }
    if (!runs->is_array()) {
        return not_a_list(name, "json");
    }
    std::vector<SubmitEntry> entries;
    std::size_t index = 0;
    for (const auto& item : *runs) {
        EntryPlace place{name, ++index, 0, {}};
        COSMOS_TRY(auto e, EntryReader(place).read(item));
        entries.push_back(std::move(e));
    }
    return entries;
}

core::Result<std::vector<SubmitEntry>> parse_batch_toml(std::string_view text,
                                                        const std::string& name) {
    toml::table root;
    try {
        root = toml::parse(text, name);
    } catch (const toml::parse_error& e) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{}:{}: {}", name, e.source().begin.line, e.description()));
    }
    for (auto&& [key, node] : root) {
        if (key.str() != "runs") {
            return fail(
                ErrorCode::invalid_input,
                fmt::format("{}:{}: unknown key '{}'", name, key.source().begin.line, key.str()),
                "a batch file holds only [[runs]] tables");
        }
    }
    const auto* runs = root["runs"].as_array();
    if (runs == nullptr) {
        return not_a_list(name, "toml");
    }
    std::vector<SubmitEntry> entries;
    std::size_t index = 0;
    for (auto&& item : *runs) {
        EntryPlace place{name, ++index, static_cast<int>(item.source().begin.line), {}};
        const auto* table = item.as_table();
        if (table == nullptr) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("{}: runs must be tables", place.at()),
                        "write one [[runs]] table per run (docs/submit.md)");
        }
        for (auto&& [k, v] : *table) {
            place.key_lines[std::string(k.str())] = static_cast<int>(k.source().begin.line);
        }
        COSMOS_TRY(auto j, toml_to_json(*table, place.at()));
        COSMOS_TRY(auto e, EntryReader(place).read(j));
        entries.push_back(std::move(e));
    }
    return entries;
}

core::Result<std::vector<SubmitEntry>> read_batch_file(const std::filesystem::path& file) {
    std::string ext = file.extension().string();
    if (ext != ".json" && ext != ".toml") {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{}: a batch file is .json or .toml", file.string()),
                    "name the file runs.json or runs.toml (docs/submit.md)");
    }
    auto text = core::read_file(file, core::kBatchFileMax, "batch file");
    if (!text) {
        if (text.error().code == ErrorCode::not_found) {
            return fail(ErrorCode::not_found, fmt::format("no batch file {}", file.string()));
        }
        return fail(std::move(text).error());
    }
    return ext == ".json" ? parse_batch_json(*text, file.string())
                          : parse_batch_toml(*text, file.string());
}

}  // namespace cosmos::services
