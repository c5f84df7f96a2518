#pragma once
// `cosmos inference --prompts-file F`: one prompt per line, as the Python tool's prompt lists
// were. A line is a prompt id (ps_…) or a prompt's text; blank lines and lines
// starting with '#' are skipped. Text lines become new prompts over the input set given with
// --inputs (docs/submit.md, "Prompts files").

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/read_file.hpp"
#include "core/result.hpp"

namespace cosmos::services {

// Largest prompts file read (a line per prompt: far more than anyone queues at once).
inline constexpr std::uint64_t k_prompts_file_max = 4 * core::kMiB;

struct PromptsFileLine {
    int line = 0;                   // 1-based, for errors
    std::optional<std::string> id;  // a prompt id
    std::string text;               // else the prompt's text
};

// Reads `file`: strips a UTF-8 byte-order mark, CRs at line ends and surrounding blanks. Fails
// with invalid_input naming FILE:LINE for text that is not valid prompt text (control
// characters, over k_max_prompt_chars), with invalid_input when the file lists nothing, and as
// core::read_file for a missing, oversized or special file.
core::Result<std::vector<PromptsFileLine>> read_prompts_file(const std::filesystem::path& file);

}  // namespace cosmos::services
