#include "services/legacy_spec.hpp"

#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/ids.hpp"
#include "core/read_file.hpp"

namespace cosmos::services::legacy {

using core::ErrorCode;
using core::fail;
using nlohmann::json;

namespace {

// Spec files are a few kilobytes; anything far larger is not one (and is not read whole).

bool has_prefix(const json& j, std::string_view prefix) {
    auto it = j.find("id");
    return it != j.end() && it->is_string() &&
           it->get_ref<const std::string&>().rfind(prefix, 0) == 0;
}

// Returns the id field as text for the report, whatever its validity ("" when absent).
std::string id_for_report(const json& j) {
    auto it = j.find("id");
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

core::Result<std::string> required_id(const json& j, std::string_view key, core::IdKind kind) {
    COSMOS_TRY(auto id, string_field(j, key, ""));
    if (!id || id->empty()) {
        return fail(ErrorCode::invalid_input, fmt::format("missing field '{}'", key));
    }
    if (!core::is_valid_id(kind, *id)) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} '{}' is not a valid {} id ('{}' and lower-case letters or "
                                "digits)",
                                key,
                                *id,
                                kind == core::IdKind::prompt ? "prompt" : "run",
                                core::id_prefix(kind)));
    }
    return *std::move(id);
}

core::Status read_controls(const json& j, store::PromptRecord& p) {
    auto it = j.find("control_inputs");
    if (it == j.end() || it->is_null()) {
        return {};
    }
    if (!it->is_object()) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("control_inputs must be an object, got {}", it->dump()));
    }
    for (const auto& item : it->items()) {
        COSMOS_TRY(auto path, string_field(*it, item.key(), "control_inputs"));
        if (!path || path->empty()) {
            continue;  // the Python tool wrote null or "" for a control it did not have
        }
        if (auto s = add_control(p.controls, item.key(), *path); !s) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("control_inputs: {}", s.error().message),
                        s.error().hint);
        }
    }
    return {};
}

// An enhanced (upsampled) prompt's parent: parent_prompt_id when the spec has it. The tool's
// specs mostly keep only the parent's text, which cosmos has no place for: that is noted.
core::Status read_spec_lineage(const json& j, Candidate<store::PromptRecord>& c) {
    COSMOS_TRY(auto parent, string_field(j, "parent_prompt_id", ""));
    if (parent && !parent->empty()) {
        if (!core::is_valid_id(core::IdKind::prompt, *parent)) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("parent_prompt_id '{}' is not a valid prompt id", *parent));
        }
        c.record.parent_id = *parent;
    }
    COSMOS_TRY(auto parent_text, string_field(j, "parent_prompt_text", ""));
    if (parent_text && !parent_text->empty() && !c.record.parent_id) {
        c.notes.emplace_back(
            "parent_prompt_text left out: cosmos links an enhanced prompt to its parent by id, "
            "and the spec names none");
    }
    auto upsampled = j.find("is_upsampled");
    if (upsampled != j.end() && upsampled->is_boolean() && upsampled->get<bool>() &&
        !c.record.parent_id) {
        c.notes.emplace_back("is_upsampled: an enhanced prompt imported without its parent link");
    }
    return {};
}

core::Result<Candidate<store::PromptRecord>> prompt_from_spec(const json& j,
                                                              const std::string& source,
                                                              const ImportDefaults& defaults) {
    Candidate<store::PromptRecord> c;
    c.source = source;
    store::PromptRecord& p = c.record;
    COSMOS_TRY(p.id, required_id(j, "id", core::IdKind::prompt));
    COSMOS_TRY(auto text, string_field(j, "prompt", ""));
    if (!text || text->find_first_not_of(" \t\r\n") == std::string::npos) {
        return fail(ErrorCode::invalid_input, "missing field 'prompt' (the prompt text)");
    }
    p.prompt = *text;
    COSMOS_TRY(auto name, string_field(j, "name", ""));
    p.name = choose_name(name, p.prompt, c.notes);
    COSMOS_TRY(auto negative, string_field(j, "negative_prompt", ""));
    p.negative_prompt = negative && !negative->empty() ? *negative : defaults.negative_prompt;
    COSMOS_CHECK(check_imported_text(p, negative && !negative->empty()));
    COSMOS_TRY(auto video, string_field(j, "input_video_path", ""));
    if (video && !video->empty()) {
        COSMOS_CHECK(set_input_video(p, *video, "input_video_path"));
    }
    if (auto s = read_controls(j, p); !s) {
        return fail(s.error());
    }
    if (p.input_video) {
        p.input_dir = std::filesystem::path(*p.input_video).parent_path().string();
    } else if (!p.controls.empty()) {
        p.input_dir = std::filesystem::path(p.controls.begin()->second).parent_path().string();
    }
    COSMOS_CHECK(read_spec_lineage(j, c));
    COSMOS_TRY(auto timestamp, string_field(j, "timestamp", ""));
    p.created_at = created_at_from(timestamp, c.notes);
    p.source = "import:" + source;
    return c;
}

core::Result<Candidate<store::RunRecord>> run_from_spec(const json& j, const std::string& source) {
    Candidate<store::RunRecord> c;
    c.source = source;
    store::RunRecord& r = c.record;
    COSMOS_TRY(r.id, required_id(j, "id", core::IdKind::run));
    COSMOS_TRY(r.prompt_id, required_id(j, "prompt_id", core::IdKind::prompt));
    auto field = [&](const char* key) { return j.contains(key) ? j.at(key) : json(); };
    COSMOS_TRY(r.params,
               run_params_from(
                   field("control_weights"), field("parameters"), "control_weights", "parameters"));
    COSMOS_TRY(auto status, string_field(j, "execution_status", ""));
    if (!status) {
        return fail(ErrorCode::invalid_input, "missing field 'execution_status'");
    }
    auto mapped = map_status(*status);
    if (!mapped) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("unknown execution_status '{}'", *status),
                    "known: pending, running, success, failed, cancelled");
    }
    r.status = mapped->status;
    r.error = mapped->error;
    if (mapped->note) {
        c.notes.push_back(*mapped->note);
    }
    COSMOS_TRY(auto output, string_field(j, "output_path", ""));
    if (output && !output->empty()) {
        r.output_video = forward_slashes(*output);
    }
    COSMOS_TRY(auto timestamp, string_field(j, "timestamp", ""));
    r.created_at = created_at_from(timestamp, c.notes);
    r.updated_at = r.created_at;
    r.source = "import:" + source;
    return c;
}

}  // namespace

SpecKind classify_spec(const json& j) {
    if (!j.is_object()) {
        return SpecKind::other;
    }
    if (has_prefix(j, "ps_")) {
        return SpecKind::prompt;
    }
    if (has_prefix(j, "rs_")) {
        return SpecKind::run;
    }
    if (j.contains("prompt_id") && (j.contains("control_weights") || j.contains("parameters") ||
                                    j.contains("execution_status"))) {
        return SpecKind::run;
    }
    if (j.contains("prompt") && j.contains("control_inputs")) {
        return SpecKind::prompt;
    }
    return SpecKind::other;
}

void read_spec_file(const std::filesystem::path& file,
                    const ImportDefaults& defaults,
                    Batch& batch) {
    const std::string source = file.string();
    auto text = core::read_file(file, core::kImportFileMax, "import file");
    if (!text) {
        batch.skip(source, "", "file", text.error().message);
        return;
    }
    read_spec_text(*text, source, defaults, batch);
}

void read_spec_text(std::string_view text,
                    const std::string& source,
                    const ImportDefaults& defaults,
                    Batch& batch) {
    auto parsed = parse_json(text);
    if (!parsed) {
        batch.skip(source,
                   "",
                   "file",
                   fmt::format("malformed JSON in {}: {}", source, parsed.error().message));
        return;
    }
    const json& j = *parsed;
    switch (classify_spec(j)) {
        case SpecKind::prompt:
            if (auto c = prompt_from_spec(j, source, defaults)) {
                batch.prompts.push_back(*std::move(c));
            } else {
                batch.skip(source, id_for_report(j), "prompt", c.error().message);
            }
            return;
        case SpecKind::run:
            if (auto c = run_from_spec(j, source)) {
                batch.runs.push_back(*std::move(c));
            } else {
                batch.skip(source, id_for_report(j), "run", c.error().message);
            }
            return;
        case SpecKind::other:
            batch.skip(source, "", "file", "not a prompt or run spec");
            return;
    }
}

}  // namespace cosmos::services::legacy
