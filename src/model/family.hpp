#pragma once
// The model seam: everything the run engine needs to know about a model family, behind one
// interface, so the engine (backends/remote_job, scheduler/, services/…) stages, launches,
// watches, collects and records without knowing which model it drives. A family says:
//   - what a host must have (its entry point under the checkout, checked before staging);
//   - what a run's prompt and parameters become: the spec file the model reads;
//   - the command line of a job, given where things are on the host (HostLayout) and what the
//     job is (JobShape: run kind, parameters, GPUs, a batch or not);
//   - how to read progress and outcome facts from its log (a ProgressTracker);
//   - where a run's (or a batch line's) video lands under the job's outputs/;
//   - which runs may share one model load (the batch key) and the batch file's spec and lines.
// Cosmos-Transfer1 (`transfer1`, docs/models/transfer1.md) and Cosmos-Transfer2.5
// (`transfer2.5`, docs/models/transfer2.5.md) are script families; Cosmos 3 (`cosmos3`,
// docs/models/cosmos3.md) is served: its runs are requests to a model server (src/serving), so
// the script-only members below (entry point, command, log reader, batches) are never asked of
// it. Every prompt and run records its
// family (store: the `model` column).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/kinds.hpp"
#include "core/result.hpp"
#include "model/batch_file.hpp"
#include "model/model_log.hpp"
#include "model/run_params.hpp"
#include "model/spec.hpp"
#include "model/transfer_command.hpp"

namespace cosmos::model {

enum class Family { transfer1, transfer2_5, cosmos3 };

// Every family, in the order `cosmos models list` shows them.
inline constexpr Family k_families[] = {Family::transfer1, Family::transfer2_5, Family::cosmos3};

std::string_view to_string(Family family);
std::optional<Family> parse_family(std::string_view name);
template <class Json>
void to_json(Json& j, Family family) {
    j = std::string(to_string(family));
}

// Where a job's things are, as the model process sees them (in a container the checkout is
// /workspace; the job and checkpoint dirs keep their host paths).
struct HostLayout {
    std::string launcher;  // torchrun, or the path the host names
    std::string checkout;  // cwd and PYTHONPATH
    std::string checkpoint_dir;
    std::string job_dir;  // spec.json (and batch.jsonl) are here; outputs go to outputs/
};

// What the job is.
struct JobShape {
    core::RunKind kind = core::RunKind::transfer;
    RunParams params;
    std::optional<int> num_steps;  // a --num_steps flag (the upscaler runs with 10)
    std::vector<int> gpu_ids;      // CUDA_VISIBLE_DEVICES; empty: 0 .. num_gpus-1
    bool batch = false;            // batch.jsonl sits next to spec.json
};

class ModelFamily {
public:
    virtual ~ModelFamily() = default;
    virtual Family family() const = 0;
    // The product name ("Cosmos-Transfer1") and a line on what it is for.
    virtual std::string display_name() const = 0;
    virtual std::string summary() const = 0;
    // Defaults the family sets itself (Transfer2.5's guidance 3, seed 2025...); nothing when the
    // [run] table's defaults are the family's (Transfer1).
    virtual std::optional<RunParams> own_defaults(std::string_view variant) const = 0;
    // True when the model runs as a server that takes requests (the job runner sends a request
    // instead of launching a command; docs/serving.md).
    virtual bool served() const = 0;
    // Whether it has runs of this kind (Transfer2.5 has no prompt upsampler nor upscaler).
    virtual bool runs(core::RunKind kind) const = 0;
    // Checks parameters against the family's rules; fails with invalid_input naming the rule.
    virtual core::Status check_params(const RunParams& params) const = 0;
    // The script (relative to the checkout) a host must have to run this family.
    virtual std::string entry_point() const = 0;
    // The spec of one run from its prompt and parameters (paths as the model process will see
    // them); fails with invalid_input naming the family's rule a value breaks.
    virtual core::Result<nlohmann::ordered_json> spec(const SpecInput& in) const = 0;
    // The command line of a job whose spec (`spec`, as written to the job dir) is staged.
    virtual LaunchCommand command(const HostLayout& layout,
                                  const JobShape& job,
                                  const nlohmann::ordered_json& spec) const = 0;
    // The chunks a sample of `frames` input frames takes with `params`.
    virtual int chunks(std::int64_t frames, const RunParams& params) const = 0;
    // Reads the model's log: progress over `expected_chunks` chunks, the guardrail, the last
    // error line.
    virtual ProgressTracker log_reader(int expected_chunks) const = 0;
    // Where the video of a single run (nullopt) or of batch line `line` lands, relative to the
    // job's outputs/.
    virtual std::string output_video(std::optional<int> line) const = 0;
    // The text file the model writes beside that video (the prompt it used), if it writes one.
    virtual std::optional<std::string> output_text(std::optional<int> line) const = 0;
    // Which runs may share one model load (nullopt: never batched), the batch file's spec and
    // one batch line.
    virtual std::optional<std::string> batch_key(const BatchFacts& facts) const = 0;
    virtual core::Result<nlohmann::ordered_json> batch_spec(
        const std::vector<BatchFacts>& runs) const = 0;
    virtual nlohmann::ordered_json batch_line(const nlohmann::ordered_json& spec,
                                              int index) const = 0;
    // The spec batch line `line` effectively ran with, given the batch's spec file.
    virtual nlohmann::ordered_json effective_spec(const nlohmann::ordered_json& batch_spec,
                                                  const nlohmann::ordered_json& line) const = 0;
};

// The implementation of `family`.
const ModelFamily& model_family(Family family);

}  // namespace cosmos::model

template <>
struct fmt::formatter<cosmos::model::Family> : fmt::formatter<std::string_view> {
    auto format(cosmos::model::Family f, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(cosmos::model::to_string(f), ctx);
    }
};
