#pragma once
// The spec of Cosmos-Transfer2.5's examples/inference.py (docs/models/transfer2.5.md), validated
// the way its pydantic models do: InferenceArguments with extra="forbid", controls edge / depth /
// vis / seg, every error of an object reported at once in pydantic's format. Written
// independently of src/model so the emulator can catch the orchestrator's mistakes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"

namespace cosmos::emulator {

class Log25;

enum class FieldKind { str, integer, real, boolean, file, file_or_dir, int_list, choice, control };

struct FieldDef {
    std::string name;
    FieldKind kind = FieldKind::str;
    nlohmann::ordered_json default_value;  // null for "no default" when required
    bool required = false;
    bool nullable = false;
    std::optional<std::int64_t> ge, le;           // integer bounds (greater_than_equal, ...)
    bool positive = false;                        // PositiveInt: > 0
    std::vector<nlohmann::ordered_json> choices;  // Literal[...] values
};

// InferenceArguments' fields in model_dump order.
const std::vector<FieldDef>& sample_fields();

// The field `name` of InferenceArguments, or nullptr.
const FieldDef* find_sample_field(std::string_view name);

// True for the fields the CLI may override (every field but name and the four controls).
bool is_override_field(const FieldDef& def);

// The control keys in the model's order (CONTROL_KEYS).
const std::vector<std::string>& control_keys25();

// One validated sample.
struct Sample25 {
    nlohmann::ordered_json args;  // model_dump(): every field, paths absolute
    std::vector<std::string> hint_keys;
};

struct Batch25 {
    std::vector<Sample25> samples;
    std::vector<std::string> hint_keys;  // across the batch, in CONTROL_KEYS order
};

// InferenceArguments.from_files: reads each -i file (.json: one object, .jsonl: one per line;
// at most 16 MiB), applies the CLI overrides, validates every object with paths relative to its
// file's folder and checks that names are unique. Failures print as the real script does:
// pydantic's report (core::ErrorCode::config, message printed as is, exit 1) or a Python
// exception (FileNotFoundError, ValueError, JSONDecodeError). Unknown keys inside a control are
// ignored with a warning (pydantic's default), refused when `strict`.
core::Result<Batch25> load_batch25(const std::vector<std::string>& files,
                                   const nlohmann::ordered_json& overrides,
                                   bool strict,
                                   Log25& log);

// Python's repr() of a JSON value ({'a': None, 'b': [1, 2]}), as pydantic and f-strings show it.
std::string py_value_repr(const nlohmann::ordered_json& value);

// One pydantic error line group.
struct PydanticError {
    std::string loc;   // "edge.control_weight"
    std::string type;  // "less_than_equal"
    std::string message;
    nlohmann::ordered_json input;
};

// pydantic's ValidationError text for `model`, ending with a newline.
std::string format_validation_errors(std::string_view model,
                                     const std::vector<PydanticError>& errors);

}  // namespace cosmos::emulator
