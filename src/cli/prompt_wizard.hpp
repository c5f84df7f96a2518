#pragma once
// `cosmos create prompt -i`: asks for the text, the input folder, a name and a negative prompt,
// previews the spec a default run would send with its validation result, and saves on yes.
// Questions go to stderr and answers come from `in`, so it works in a terminal and in a pipe.

#include <istream>

#include "cli/output.hpp"
#include "core/result.hpp"
#include "services/app.hpp"
#include "store/records.hpp"

namespace cosmos::cli {

// Returns the saved prompt; fails with invalid_input when input ends before an answer or the
// user declines, and with the draft's error when the answers stay invalid.
core::Result<store::PromptRecord> run_prompt_wizard(const services::App& app,
                                                    const Output& out,
                                                    std::istream& in);

}  // namespace cosmos::cli
