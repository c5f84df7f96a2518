#pragma once
// The rows the store keeps, as plain values.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/kinds.hpp"
#include "model/family.hpp"
#include "model/run_params.hpp"

namespace cosmos::store {

struct VideoMeta {
    int width = 0;
    int height = 0;
    std::int64_t frames = 0;
    double fps = 0;
};

struct PromptRecord {
    std::string id;
    std::string name;
    std::string prompt;
    std::string negative_prompt;
    std::string input_dir;                        // absolute folder of the input set
    std::optional<std::string> input_video;       // absolute path of color.mp4
    std::map<std::string, std::string> controls;  // modality -> absolute path of its video
    std::map<std::string, std::string> masks;     // modality -> its mask video (white = apply)
    VideoMeta video;
    std::optional<std::string> parent_id;
    std::optional<std::string> template_name;
    std::string source = "cli";  // "cli" or "import:<file>"
    std::string created_at;
    model::Family model = model::Family::transfer1;  // the model family it is written for
};

// Run states. pending: created, not started; queued: waiting in the queue; running; and the
// terminal states succeeded, failed, cancelled.
enum class RunStatus { pending, queued, running, succeeded, failed, cancelled };

std::string_view to_string(RunStatus s);
std::optional<RunStatus> run_status_from(std::string_view s);
bool is_terminal(RunStatus s);

struct RunRecord {
    std::string id;
    std::string prompt_id;
    core::RunKind kind = core::RunKind::transfer;
    model::Family model = model::Family::transfer1;  // the model family that runs it
    std::optional<std::string> model_name;           // the user model file it used, if any
    std::optional<std::string> model_hash;           // that file's SHA-256 when the run was made
    RunStatus status = RunStatus::pending;
    std::optional<std::string> host;
    model::RunParams params;
    std::optional<std::string> parent_run_id;
    std::string created_at;
    std::string updated_at;
    std::optional<std::string> started_at;
    std::optional<std::string> finished_at;
    std::optional<std::int64_t> exit_code;
    std::optional<std::string> error;
    std::optional<std::string> command;  // JSON array, exactly as launched
    std::optional<std::string> spec;     // JSON, exactly as sent
    std::optional<std::string> output_dir;
    std::optional<std::string> output_video;
    std::optional<std::string> log_path;
    double progress = 0;
    std::string source = "cli";
    // Remote execution (schema v2).
    std::optional<std::string> runtime;     // native | docker
    std::optional<std::string> remote_dir;  // the job dir on the host
    std::optional<std::string> batch_id;    // the model load it shared with other runs
    std::optional<int> batch_index;         // its line in that batch's file
    std::optional<std::string> image;       // docker image id and digest that ran
    std::optional<std::int64_t> uploaded_bytes;
    std::optional<double> upload_seconds;
    std::optional<double> run_seconds;
    std::optional<double> download_seconds;
    std::optional<double> gpu_seconds;         // GPUs held x seconds (its share of a batch)
    std::optional<double> gpu_price_per_hour;  // its host's price then (docs/cost.md)
    std::optional<std::string> sweep_id;       // the sweep that queued it
    // GPU usage (schema v8, docs/metrics.md): the GPUs it held on its host ("0,1"), and once it
    // ended its mean and peak utilisation (percent) and peak memory from the host's samples.
    std::optional<std::string> gpu_ids;
    std::optional<double> gpu_util_mean;
    std::optional<double> gpu_util_peak;
    std::optional<double> gpu_mem_peak_mib;
    // Schema v10: the user's rating, 1 to 5 (`cosmos rate`, the web UI, the import).
    std::optional<int> rating;
};

struct RunEvent {
    std::string at;
    RunStatus status = RunStatus::pending;
    std::string detail;
};

}  // namespace cosmos::store
