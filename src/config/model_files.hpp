#pragma once
// User model files: <config_dir>/models/NAME.toml (~/.config/cosmos/models/) name a model family
// and override what post-training changes: the checkpoint, the experiment, default parameters,
// extra flags, a display name (docs/models/model-files.md). `--model NAME` then runs it; its runs
// record NAME and the file's SHA-256.
//
//   family = "transfer2.5"                     # required: transfer1 or transfer2.5
//   display_name = "Warehouse (post-trained)"
//   description = "2.5 post-trained on our warehouse renders"
//   checkpoint_path = "/models/warehouse.pt"   # transfer2.5: --checkpoint-path
//   experiment = "warehouse_v2"                # transfer2.5: --experiment
//   extra_flags = ["--disable-guardrails"]
//   [defaults]                                 # run parameters, as in a batch file
//   guidance = 5
//   num_steps = 30
//   weights = { depth = 0.6, edge = 0.4 }

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "model/family.hpp"

namespace cosmos::config {

// A model file's [defaults]: they replace the family's defaults; a run's own options win.
struct ModelDefaults {
    std::optional<std::int64_t> num_steps;
    std::optional<double> guidance;
    std::optional<std::int64_t> seed;
    std::optional<std::string> resolution;
    std::optional<std::string> variant;
    std::map<std::string, double> weights;
};

struct UserModel {
    std::string name;  // the file's stem: what --model names
    model::Family family = model::Family::transfer1;
    std::string display_name;
    std::string description;
    std::string checkpoint_path;
    std::string experiment;
    std::vector<std::string> extra_flags;
    ModelDefaults defaults;
    std::string sha256;  // of the file's bytes
    std::filesystem::path file;
};

// Largest model file read.
inline constexpr std::uintmax_t k_max_model_file_bytes = std::uintmax_t{64} * 1024;

// Reads every *.toml in `dir` (none when it does not exist), sorted by name. Fails with a config
// error "FILE:LINE: ..." for the first broken file: bad TOML, an unknown key or family, a wrong
// type, a name that is a family's, a Transfer2.5-only key in a Transfer1 file, a flag that is not
// one (extra flags start with '-').
core::Result<std::vector<UserModel>> load_user_models(const std::filesystem::path& dir);

// Parses `text` as the model file `file` (its stem is the model's name; nothing is read from
// disk): what load_user_models does for each file once it is read.
core::Result<UserModel> parse_user_model(const std::string& text,
                                         const std::filesystem::path& file);

// The model file directory of a config dir: <config_dir>/models.
std::filesystem::path models_dir(const std::filesystem::path& config_dir);

}  // namespace cosmos::config
