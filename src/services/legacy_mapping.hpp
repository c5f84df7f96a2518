#pragma once
// How the Python tool's fields map onto our records, shared by the readers of its JSON specs
// (legacy_spec.hpp) and of its SQLite database (legacy_database.hpp). Pure: no I/O.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/result.hpp"
#include "model/run_params.hpp"
#include "services/import_legacy.hpp"
#include "store/records.hpp"

namespace cosmos::services::legacy {

// A record read from a legacy file, not yet written; `notes` say what was changed on the way.
template <class Record>
struct Candidate {
    Record record;
    std::string source;
    std::vector<std::string> notes;
};

// Everything read from the paths of one import.
struct Batch {
    std::vector<Candidate<store::PromptRecord>> prompts;
    std::vector<Candidate<store::RunRecord>> runs;
    std::vector<ImportItem> skipped;  // files and rows that could not be read as an item

    void skip(std::string source, std::string id, std::string kind, std::string reason);
};

// Returns `path` with every '\' turned into '/' (the Python tool ran on Windows too).
std::string forward_slashes(std::string_view path);

// Returns `text` (ISO 8601 or SQLAlchemy's "YYYY-MM-DD HH:MM:SS.ffffff"; no offset means UTC)
// in our form "YYYY-MM-DDTHH:MM:SS.mmmZ"; nullopt when it does not parse.
std::optional<std::string> normalise_timestamp(std::string_view text);

// Returns the created_at for a legacy `timestamp`: normalised, or now (with a note) when it is
// missing or does not parse.
std::string created_at_from(const std::optional<std::string>& timestamp,
                            std::vector<std::string>& notes);

// Returns the name to store: `given` when core::validate_name accepts it, else its sanitised
// form, else one derived from `text`; adds a note whenever the name is not `given` unchanged.
std::string choose_name(const std::optional<std::string>& given,
                        std::string_view text,
                        std::vector<std::string>& notes);

// Checks an imported prompt's text (and its negative prompt when the file gave one) exactly as
// `cosmos create prompt` does (check_prompt_text); fails with invalid_input.
core::Status check_imported_text(const store::PromptRecord& p, bool negative_given);

// Sets `p`'s input video to `path` ('\' turned into '/') once check_input_video_path accepts
// it; fails with invalid_input naming `what` ("input_video_path") and why.
core::Status set_input_video(store::PromptRecord& p, std::string_view path, std::string_view what);

// Parses `text` as JSON; fails with invalid_input giving the position ("parse error at line 8,
// column 1: ...").
core::Result<nlohmann::json> parse_json(std::string_view text);

// Maps a control key of the Python tool onto our modality ("segmentation" -> "seg",
// "depth" -> "depth", ...); nullopt for keys that are no control modality.
std::optional<std::string> control_modality(std::string_view key);

// Adds `key`'s control video `path` to `controls` under its modality (backslashes turned into
// '/'). Fails with invalid_input for an unknown modality or two different paths for one.
core::Status add_control(std::map<std::string, std::string>& controls,
                         std::string_view key,
                         std::string_view path);

// Typed reads of `obj[key]`: nullopt when absent or null; fail with invalid_input naming
// "<where>.<key>" (or "<key>" when `where` is empty) when the value has another type
// (integers accept integral floats).
core::Result<std::optional<std::string>> string_field(const nlohmann::json& obj,
                                                      std::string_view key,
                                                      std::string_view where);
core::Result<std::optional<double>> number_field(const nlohmann::json& obj,
                                                 std::string_view key,
                                                 std::string_view where);
core::Result<std::optional<std::int64_t>> integer_field(const nlohmann::json& obj,
                                                        std::string_view key,
                                                        std::string_view where);

// Builds run parameters from a {modality: weight} object and a parameters object (num_steps,
// guidance / guidance_scale / cfg_scale, sigma_max, fps, seed, blur_strength, canny_threshold,
// num_gpus; other keys ignored) over our defaults, which equal the Python tool's. Fails with
// invalid_input naming the first field of a wrong type or out of range (model::check_* /
// model::validate).
core::Result<model::RunParams> run_params_from(const nlohmann::json& weights,
                                               const nlohmann::json& params,
                                               std::string_view weights_where,
                                               std::string_view params_where);

struct MappedStatus {
    store::RunStatus status = store::RunStatus::pending;
    std::optional<std::string> error;  // set for runs whose outcome is unknown
    std::optional<std::string> note;   // set when the mapping loses something
};

// Maps a run status of the Python tool: pending -> pending, queued -> pending (with a note),
// running / uploading / downloading -> failed ("imported while running; its outcome is
// unknown"), success / completed ->
// succeeded, failed / error -> failed, cancelled / canceled -> cancelled; nullopt otherwise.
std::optional<MappedStatus> map_status(std::string_view legacy);

// Message used for runs that were running when they were imported.
inline constexpr std::string_view k_running_error =
    "imported while running; its outcome is unknown";

}  // namespace cosmos::services::legacy
