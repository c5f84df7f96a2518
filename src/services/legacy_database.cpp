#include "services/legacy_database.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/decimal.hpp"
#include "core/ids.hpp"
#include "core/kinds.hpp"
#include "core/read_file.hpp"
#include "model/upscale_command.hpp"
#include "services/prompt_checks.hpp"
#include "store/database.hpp"
#include "store/run_store.hpp"

namespace cosmos::services::legacy {

using core::ErrorCode;
using core::fail;
using nlohmann::json;

namespace {

// Columns read from one table, in SELECT order. The first `required` must exist; the others are
// read as NULL when the tool's version lacks them.
struct TableRead {
    std::string_view table;
    std::vector<std::string_view> columns;
    std::size_t required;
};

const TableRead k_prompts{
    "prompts", {"id", "prompt_text", "created_at", "inputs", "parameters", "model_type"}, 2};
const TableRead k_runs{"runs",
                       {"id",
                        "prompt_id",
                        "status",
                        "model_type",
                        "created_at",
                        "updated_at",
                        "started_at",
                        "completed_at",
                        "execution_config",
                        "outputs",
                        "log_path",
                        "error_message",
                        "metadata",
                        "rating"},
                       3};

// Prepares the SELECT of `read`; fails with invalid_input when the table or a required column
// is missing (the file is then not the Python tool's database).
core::Result<store::Statement> select_rows(const store::Database& db, const TableRead& read) {
    // Table and column names are our constants, never input.
    COSMOS_TRY(auto info, db.prepare(fmt::format("PRAGMA table_info({})", read.table)));
    std::set<std::string, std::less<>> present;
    for (;;) {
        COSMOS_TRY(bool row, info.step());
        if (!row) {
            break;
        }
        present.insert(info.text(1));
    }
    if (present.empty()) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format("not a database of the Python tool: it has no table '{}'", read.table));
    }
    std::string list;
    for (std::size_t i = 0; i < read.columns.size(); ++i) {
        std::string_view col = read.columns[i];
        if (present.find(col) == present.end() && i < read.required) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("not a database of the Python tool: table '{}' has no "
                                    "column '{}'",
                                    read.table,
                                    col));
        }
        list += fmt::format(
            "{}{}",
            i == 0 ? "" : ", ",
            present.count(col) != 0 ? std::string(col) : fmt::format("NULL AS {}", col));
    }
    return db.prepare(fmt::format("SELECT {} FROM {} ORDER BY 1", list, read.table));
}

// Parses the JSON column `col` (NULL reads as an empty object); fails naming the column.
core::Result<json> json_column(const store::Statement& st, int col, std::string_view name) {
    auto text = st.opt_text(col);
    if (!text || text->empty()) {
        return json::object();
    }
    auto parsed = parse_json(*text);
    if (!parsed) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("malformed JSON in column {}: {}", name, parsed.error().message));
    }
    json j = *std::move(parsed);
    if (j.is_null()) {
        return json::object();
    }
    if (!j.is_object()) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("column {} must hold a JSON object, got {}", name, j.dump()));
    }
    return j;
}

core::Status check_id(const std::string& id, core::IdKind kind, std::string_view column) {
    if (!core::is_valid_id(kind, id)) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} '{}' is not a valid {} id",
                                column,
                                id,
                                kind == core::IdKind::prompt ? "prompt" : "run"));
    }
    return {};
}

bool is_video_key(std::string_view key) {
    return key == "video" || key == "input_video" || key == "color" || key == "input_video_path";
}

// Reads the input video and control videos. Other keys holding a path are unknown controls
// (the row is skipped, as for spec files); other values (frame lists, notes) are left out with a
// note.
core::Status read_inputs(const json& inputs,
                         store::PromptRecord& p,
                         std::vector<std::string>& notes) {
    for (const auto& item : inputs.items()) {
        if (!item.value().is_string() && !item.value().is_null()) {
            notes.push_back(fmt::format("inputs.{} left out", item.key()));
            continue;
        }
        COSMOS_TRY(auto path, string_field(inputs, item.key(), "inputs"));
        if (!path || path->empty()) {
            continue;
        }
        if (is_video_key(item.key())) {
            COSMOS_CHECK(set_input_video(p, *path, fmt::format("inputs.{}", item.key())));
        } else if (auto s = add_control(p.controls, item.key(), *path); !s) {
            return fail(ErrorCode::invalid_input, fmt::format("inputs: {}", s.error().message));
        }
    }
    if (p.input_video) {
        p.input_dir = std::filesystem::path(*p.input_video).parent_path().string();
    } else if (!p.controls.empty()) {
        p.input_dir = std::filesystem::path(p.controls.begin()->second).parent_path().string();
    }
    return {};
}

// Keys of a prompt's parameters that are read (name, negative prompt, the run parameters its
// runs inherit, the parent link); any other is noted as left out.
bool is_read_prompt_key(std::string_view key) {
    static const std::set<std::string, std::less<>> k_read = {"name",
                                                              "negative_prompt",
                                                              "num_steps",
                                                              "guidance",
                                                              "guidance_scale",
                                                              "cfg_scale",
                                                              "sigma_max",
                                                              "fps",
                                                              "seed",
                                                              "blur_strength",
                                                              "canny_threshold",
                                                              "num_gpus",
                                                              "weights",
                                                              "control_weights",
                                                              "parent_prompt_id",
                                                              "parent_id",
                                                              "enhanced_from"};
    return k_read.count(key) != 0 || control_modality(key).has_value();
}

// The prompt an enhanced prompt was made from: parameters.parent_prompt_id (or parent_id,
// enhanced_from). Every parameter cosmos has no place for is noted.
core::Status read_prompt_lineage(const json& parameters,
                                 store::PromptRecord& p,
                                 std::vector<std::string>& notes) {
    for (const char* key : {"parent_prompt_id", "parent_id", "enhanced_from"}) {
        COSMOS_TRY(auto parent, string_field(parameters, key, "parameters"));
        if (parent && !parent->empty() && !p.parent_id) {
            COSMOS_CHECK(check_id(*parent, core::IdKind::prompt, "parameters." + std::string(key)));
            p.parent_id = *parent;
        }
    }
    for (const auto& item : parameters.items()) {
        if (!is_read_prompt_key(item.key())) {
            notes.push_back(fmt::format("parameters.{} = {} left out: cosmos has no place for it",
                                        item.key(),
                                        item.value().dump()));
        }
    }
    return {};
}

core::Result<Candidate<store::PromptRecord>> prompt_from_row(const store::Statement& st,
                                                             const std::string& source,
                                                             const ImportDefaults& defaults) {
    Candidate<store::PromptRecord> c;
    c.source = source;
    store::PromptRecord& p = c.record;
    p.id = st.text(0);
    if (auto s = check_id(p.id, core::IdKind::prompt, "id"); !s) {
        return fail(s.error());
    }
    auto model_type = st.opt_text(5).value_or("");
    if (!model_type.empty() && !core::parse_run_kind(model_type)) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("model_type '{}' is not a Cosmos-Transfer1 prompt", model_type));
    }
    p.prompt = st.text(1);
    if (p.prompt.find_first_not_of(" \t\r\n") == std::string::npos) {
        return fail(ErrorCode::invalid_input, "missing field 'prompt_text'");
    }
    COSMOS_TRY(auto inputs, json_column(st, 3, "inputs"));
    COSMOS_TRY(auto parameters, json_column(st, 4, "parameters"));
    COSMOS_TRY(auto name, string_field(parameters, "name", "parameters"));
    p.name = choose_name(name, p.prompt, c.notes);
    COSMOS_TRY(auto negative, string_field(parameters, "negative_prompt", "parameters"));
    p.negative_prompt = negative && !negative->empty() ? *negative : defaults.negative_prompt;
    COSMOS_CHECK(check_imported_text(p, negative && !negative->empty()));
    if (auto s = read_inputs(inputs, p, c.notes); !s) {
        return fail(s.error());
    }
    COSMOS_CHECK(read_prompt_lineage(parameters, p, c.notes));
    p.created_at = created_at_from(st.opt_text(2), c.notes);
    p.source = "import:" + source;
    return c;
}

// Weights live under "weights" / "control_weights" or as flat modality keys.
json weights_of(const json& config) {
    for (const char* key : {"weights", "control_weights"}) {
        if (auto it = config.find(key); it != config.end() && it->is_object()) {
            return *it;
        }
    }
    json flat = json::object();
    for (const auto& item : config.items()) {
        if (control_modality(item.key()) || item.key() == "upscale") {
            flat[item.key()] = item.value();
        }
    }
    return flat;
}

// Run parameters: the prompt's parameters (where the tool kept num_steps, cfg_scale...),
// overridden by execution_config's top level, overridden by execution_config.parameters.
json parameters_of(const json& prompt_params, const json& config) {
    json params = prompt_params.is_object() ? prompt_params : json::object();
    for (const json* layer :
         {&config, config.contains("parameters") ? &config["parameters"] : nullptr}) {
        if (layer != nullptr && layer->is_object()) {
            for (const auto& item : layer->items()) {
                params[item.key()] = item.value();
            }
        }
    }
    return params;
}

std::optional<std::string> optional_time(const std::optional<std::string>& text,
                                         std::string_view column,
                                         std::vector<std::string>& notes) {
    if (!text || text->empty()) {
        return std::nullopt;
    }
    auto iso = normalise_timestamp(*text);
    if (!iso) {
        notes.push_back(fmt::format("{} '{}' not understood: left empty", column, *text));
    }
    return iso;
}

core::Status read_run_state(const store::Statement& st, Candidate<store::RunRecord>& c) {
    store::RunRecord& r = c.record;
    auto kind = st.opt_text(3).value_or("");
    if (kind.empty()) {
        kind = "transfer";
    }
    auto parsed = core::parse_run_kind(kind);
    if (!parsed) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("unknown model_type '{}'", kind),
                    "known: transfer, upscale, enhance");
    }
    r.kind = *parsed;
    auto status = st.opt_text(2).value_or("");
    auto mapped = map_status(status);
    if (!mapped) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("unknown status '{}'", status),
                    "known: pending, queued, running, completed, failed, cancelled");
    }
    r.status = mapped->status;
    if (mapped->note) {
        c.notes.push_back(*mapped->note);
    }
    auto message = st.opt_text(11);
    r.error =
        mapped->error ? mapped->error : (message && !message->empty() ? message : std::nullopt);
    r.created_at = created_at_from(st.opt_text(4), c.notes);
    r.updated_at = optional_time(st.opt_text(5), "updated_at", c.notes).value_or(r.created_at);
    r.started_at = optional_time(st.opt_text(6), "started_at", c.notes);
    r.finished_at = optional_time(st.opt_text(7), "completed_at", c.notes);
    return {};
}

// Notes every key of `obj` but those in `read`: what cosmos has no place for is said, never
// dropped silently.
void note_left_out(const json& obj,
                   std::string_view where,
                   std::initializer_list<std::string_view> read,
                   std::vector<std::string>& notes) {
    for (const auto& item : obj.items()) {
        if (std::find(read.begin(), read.end(), item.key()) == read.end()) {
            notes.push_back(fmt::format("{}.{} = {} left out: cosmos has no place for it",
                                        where,
                                        item.key(),
                                        item.value().dump()));
        }
    }
}

// The upscale weight: weights.upscale, or execution_config.control_weight / upscale_weight
// (removed from `weights`, which keeps the control weights).
core::Result<std::optional<double>> upscale_weight_of(const json& config, json& weights) {
    COSMOS_TRY(auto w, number_field(weights, "upscale", "execution_config.weights"));
    weights.erase("upscale");
    for (const char* key : {"control_weight", "upscale_weight"}) {
        if (!w) {
            COSMOS_TRY(w, number_field(config, key, "execution_config"));
        }
    }
    return w;
}

// An upscale run keeps its upscale weight as cosmos's own do (its only weight); a transfer run
// has no place for one.
core::Status keep_upscale_weight(std::optional<double> upscale, Candidate<store::RunRecord>& c) {
    store::RunRecord& r = c.record;
    if (r.kind != core::RunKind::upscale) {
        if (upscale) {
            c.notes.push_back(fmt::format(
                "upscale weight {} left out: a transfer run has control weights only", *upscale));
        }
        return {};
    }
    if (!r.params.weights.empty()) {
        std::string names;
        for (const auto& [m, w] : r.params.weights) {
            names += fmt::format("{}{} {}", names.empty() ? "" : ", ", m, w);
        }
        c.notes.push_back(fmt::format(
            "control weights {} left out: an upscale run has its upscale weight only", names));
    }
    r.params.weights.clear();
    if (upscale) {
        COSMOS_CHECK(model::check_upscale_weight(*upscale));
        r.params.weights["upscale"] = *upscale;
    }
    return {};
}

// The run an upscale run upscaled (parent_run_id or source_run_id), and an upscale run's guiding
// prompt (kept as its upscale_prompt when it passes the prompt checks; noted as left out
// otherwise, and on other kinds of run, which have no place for one).
core::Status read_run_lineage(const json& config, Candidate<store::RunRecord>& c) {
    for (const char* key : {"parent_run_id", "source_run_id"}) {
        COSMOS_TRY(auto parent, string_field(config, key, "execution_config"));
        if (parent && !parent->empty() && !c.record.parent_run_id) {
            COSMOS_CHECK(
                check_id(*parent, core::IdKind::run, "execution_config." + std::string(key)));
            c.record.parent_run_id = *parent;
        }
    }
    for (const char* key : {"prompt", "guiding_prompt", "upscale_prompt"}) {
        COSMOS_TRY(auto text, string_field(config, key, "execution_config"));
        if (!text || text->empty()) {
            continue;
        }
        if (c.record.kind != core::RunKind::upscale) {
            c.notes.push_back(fmt::format(
                "execution_config.{} left out: only upscale runs take a guiding prompt", key));
            continue;
        }
        auto valid = check_prompt_text(*text, "guiding prompt");
        if (!valid) {
            c.notes.push_back(fmt::format(
                "guiding prompt execution_config.{} left out: {}", key, valid.error().message));
        } else if (c.record.params.upscale_prompt.empty()) {
            c.record.params.upscale_prompt = *text;
        }
    }
    return {};
}

// The run's rating: a whole number of stars from 1 to 5 ("4", or "4.0" from a REAL column) is
// kept; anything else (0, 7, 3.5, "good") is noted as left out, the run still imported.
void read_rating(const std::optional<std::string>& text, Candidate<store::RunRecord>& c) {
    if (!text || text->empty()) {
        return;
    }
    auto value = core::parse_decimal(*text, "rating");
    if (value && *value == std::floor(*value) && *value >= store::k_min_rating &&
        *value <= store::k_max_rating) {
        c.record.rating = static_cast<int>(*value);
        return;
    }
    c.notes.push_back(
        fmt::format("rating {} left out: a rating is a whole number of stars from "
                    "{} to {}",
                    *text,
                    store::k_min_rating,
                    store::k_max_rating));
}

core::Result<Candidate<store::RunRecord>> run_from_row(const store::Statement& st,
                                                       const std::string& source,
                                                       const std::map<std::string, json>& prompts) {
    Candidate<store::RunRecord> c;
    c.source = source;
    store::RunRecord& r = c.record;
    r.id = st.text(0);
    r.prompt_id = st.text(1);
    for (auto s : {check_id(r.id, core::IdKind::run, "id"),
                   check_id(r.prompt_id, core::IdKind::prompt, "prompt_id"),
                   read_run_state(st, c)}) {
        if (!s) {
            return fail(s.error());
        }
    }
    COSMOS_TRY(auto config, json_column(st, 8, "execution_config"));
    auto prompt = prompts.find(r.prompt_id);
    const json prompt_params = prompt != prompts.end() ? prompt->second : json::object();
    json weights = weights_of(config);
    if (weights.empty()) {
        weights = weights_of(prompt_params);
    }
    COSMOS_TRY(auto upscale, upscale_weight_of(config, weights));
    COSMOS_TRY(r.params,
               run_params_from(weights,
                               parameters_of(prompt_params, config),
                               "execution_config.weights",
                               "execution_config"));
    COSMOS_CHECK(keep_upscale_weight(upscale, c));
    COSMOS_CHECK(read_run_lineage(config, c));
    COSMOS_TRY(auto outputs, json_column(st, 9, "outputs"));
    for (const char* key : {"output_video", "output_path", "result_video"}) {
        COSMOS_TRY(auto path, string_field(outputs, key, "outputs"));
        if (path && !path->empty() && !r.output_video) {
            r.output_video = forward_slashes(*path);
        }
    }
    if (auto log = st.opt_text(10); log && !log->empty()) {
        r.log_path = forward_slashes(*log);
    }
    note_left_out(outputs, "outputs", {"output_video", "output_path", "result_video"}, c.notes);
    COSMOS_TRY(auto metadata, json_column(st, 12, "metadata"));
    note_left_out(metadata, "metadata", {}, c.notes);
    read_rating(st.opt_text(13), c);
    r.source = "import:" + source;
    return c;
}

// Reads every row of `st` (the SELECT of `read`) with `map`, adding candidates or skipped items
// to `out`.
template <class Record, class Map>
void read_table(store::Statement& st,
                const TableRead& read,
                const std::string& source,
                std::string_view kind,
                std::vector<Candidate<Record>>& out,
                Batch& batch,
                Map map) {
    for (;;) {
        auto row = st.step();
        if (!row) {
            batch.skip(source,
                       "",
                       "file",
                       fmt::format("cannot read table {}: {}", read.table, row.error().message));
            return;
        }
        if (!*row) {
            return;
        }
        if (auto c = map(st)) {
            out.push_back(*std::move(c));
        } else {
            batch.skip(source, st.text(0), std::string(kind), c.error().message);
        }
    }
}

// A cosmos store also has prompts and runs tables, of another shape: importing it as the
// Python tool's would lose its runs' weights and seeds, so it is refused whole.
core::Status refuse_cosmos_database(const store::Database& db) {
    COSMOS_TRY(auto st,
               db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN "
                          "('run_events', 'jobs', 'job_runs')"));
    COSMOS_TRY(bool found, st.step());
    if (found) {
        return fail(ErrorCode::invalid_input,
                    "a cosmos database, not the Python tool's: nothing of it is imported (its "
                    "runs would lose their weights and seeds)",
                    "to use that store, point COSMOS_DATA_DIR at its folder");
    }
    return {};
}

struct Selects {
    store::Statement prompts;
    store::Statement runs;
};

core::Result<Selects> select_tables(const store::Database& db) {
    COSMOS_CHECK(refuse_cosmos_database(db));
    COSMOS_TRY(auto prompts, select_rows(db, k_prompts));
    COSMOS_TRY(auto runs, select_rows(db, k_runs));
    return Selects{std::move(prompts), std::move(runs)};
}

}  // namespace

bool is_sqlite_file(const std::filesystem::path& file) {
    static constexpr std::array<char, 16> k_header = {
        'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f', 'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};
    // Not readable or not a regular file: the spec reader says why.
    auto head = core::read_file_head(file, k_header.size(), "import file");
    return head && std::equal(head->begin(), head->end(), k_header.begin(), k_header.end());
}

void read_legacy_database(const std::filesystem::path& file,
                          const ImportDefaults& defaults,
                          Batch& batch) {
    const std::string source = file.string();
    auto db = store::Database::open_readonly(file);
    if (!db) {
        batch.skip(source, "", "file", db.error().message);
        return;
    }
    // Both tables must be the tool's before a row is read: all of the file, or none of it.
    auto selects = select_tables(*db);
    if (!selects) {
        batch.skip(source, "", "file", selects.error().message);
        return;
    }
    // Each prompt's parameters, which its runs inherit.
    std::map<std::string, json> prompt_params;
    read_table(selects->prompts,
               k_prompts,
               source,
               "prompt",
               batch.prompts,
               batch,
               [&](const store::Statement& st) {
                   auto params = json_column(st, 4, "parameters");
                   prompt_params[st.text(0)] = params ? *params : json::object();
                   return prompt_from_row(st, source, defaults);
               });
    read_table(
        selects->runs, k_runs, source, "run", batch.runs, batch, [&](const store::Statement& st) {
            return run_from_row(st, source, prompt_params);
        });
}

}  // namespace cosmos::services::legacy
