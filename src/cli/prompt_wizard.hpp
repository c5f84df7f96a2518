#pragma once
// `cosmos create prompt -i`: asks for the text, the input folder, a name and a negative prompt,
// previews the spec a default run would send with its validation result, and saves on yes.
// Questions go to stderr and answers come from `in`, so it works in a terminal and in a pipe.

#include <istream>
#include <optional>

#include "cli/output.hpp"
#include "core/result.hpp"
#include "services/app.hpp"
#include "services/create_prompt.hpp"
#include "store/records.hpp"

namespace cosmos::cli {

// Returns the saved prompt, or nullopt when the user declines to save it (nothing written);
// fails with invalid_input when input ends before an answer, and with the draft's error when
// the answers stay invalid. `base` carries what the command line gave: a template and its
// values (then the text is not asked: the template makes it), an input folder (offered as the
// answer), a name, a negative prompt, a model.
core::Result<std::optional<store::PromptRecord>> run_prompt_wizard(
    const services::App& app,
    const Output& out,
    std::istream& in,
    services::CreatePromptRequest base = {});

}  // namespace cosmos::cli
