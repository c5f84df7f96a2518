#pragma once
// The checks a prompt passes wherever it comes from (`cosmos create prompt`, the API, an import),
// shared so every entry point refuses the same text and paths.

#include <string_view>

#include "core/result.hpp"

namespace cosmos::services {

// Checks prompt or negative-prompt text: not blank, at most k_max_prompt_chars
// (create_prompt.hpp), no control characters but newline, tab and CR (C0, DEL and the C1 range
// U+0080..U+009F). Fails with invalid_input naming `what` ("prompt text") and the character.
core::Status check_prompt_text(std::string_view text, std::string_view what);

// Checks a path recorded for an input video that is not scanned (an imported prompt's, which
// names a file where the old tool ran): as in a scanned set, a `.mp4` file whose folder becomes
// the prompt's input folder. Refused: an empty path, control characters, '.' or '..' segments,
// a hidden segment (".ssh"), and a file in `/` or in a system folder (/etc, /proc, /usr, /root,
// ...), which the prompt would expose as its input folder. `what` names the field in the error
// ("input_video_path").
core::Status check_input_video_path(std::string_view path, std::string_view what);

}  // namespace cosmos::services
