#pragma once
// Cosmos 3's Reasoner (docs/models/cosmos3.md, "The Reasoner"): a vision-language model behind
// the OpenAI chat API, reached like any served model (an http host with role = "reasoner", or an
// ssh host whose [hosts.NAME.serve] table has that role). Three uses:
//   - enhance: rewrites a prompt from its words and its video; the result becomes a new prompt
//     over the same inputs whose parent is the original (as Transfer1's upsampler's do);
//   - caption: drafts a prompt from a render (an input set's color video);
//   - review: a physical-plausibility judgement of a run's output (a score 1-5 and a reason),
//     stored with the run (review.json in its run dir; `show`, the UI and --json show it).
// Videos go inside the request as data: URLs of a small clip (at most 480p and 64 frames), so a
// Reasoner anywhere sees them without sharing a file system.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "services/app.hpp"
#include "store/records.hpp"

namespace cosmos::services {

// The host that serves the Reasoner: `name`, else the only (first) host with role reasoner.
core::Result<config::HostConfig> reasoner_host(const App& app,
                                               const std::optional<std::string>& name);

// Rewrites prompt `prompt_id` and stores the result as a child prompt.
core::Result<store::PromptRecord> reasoner_enhance(const App& app,
                                                   const std::string& prompt_id,
                                                   const std::optional<std::string>& host);

struct Caption {
    std::string input_dir;
    std::string video;
    std::string text;
};

// Drafts a prompt for the input set in `dir` from its color video.
core::Result<Caption> reasoner_caption(const App& app,
                                       const std::string& dir,
                                       const std::optional<std::string>& host);

// Judges run `run_id`'s output and stores the review with the run:
// {"score": 1-5 or null, "reason", "answer" (the Reasoner's whole text), "host", "at"}.
core::Result<nlohmann::ordered_json> reasoner_review(const App& app,
                                                     const std::string& run_id,
                                                     const std::optional<std::string>& host);

// The stored review of a run, if it has one.
std::optional<nlohmann::ordered_json> stored_review(const App& app, const std::string& run_id);

// Reads "Score: N" and "Reason: ..." from a Reasoner's answer (a <think> block is skipped).
nlohmann::ordered_json parse_review(const std::string& answer);

}  // namespace cosmos::services
