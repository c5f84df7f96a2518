#include "services/prompts_file.hpp"

#include <string_view>

#include <fmt/format.h>

#include "core/ids.hpp"
#include "core/text.hpp"
#include "services/prompt_checks.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;

namespace {}  // namespace

core::Result<std::vector<PromptsFileLine>> read_prompts_file(const std::filesystem::path& file) {
    COSMOS_TRY(auto text, core::read_file(file, k_prompts_file_max, "prompts file"));
    std::string_view rest = text;
    if (rest.starts_with("\xEF\xBB\xBF")) {
        rest.remove_prefix(3);
    }
    std::vector<PromptsFileLine> lines;
    int number = 0;
    while (!rest.empty()) {
        auto nl = rest.find('\n');
        std::string_view raw = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        ++number;
        auto line = core::trim(raw);
        if (line.empty() || line.front() == '#') {
            continue;
        }
        PromptsFileLine entry;
        entry.line = number;
        if (core::is_valid_id(core::IdKind::prompt, line)) {
            entry.id = std::string(line);
        } else {
            if (auto s = check_prompt_text(line, "prompt text"); !s) {
                return fail(ErrorCode::invalid_input,
                            fmt::format("{}:{}: {}", file.string(), number, s.error().message),
                            "a line is a prompt id (ps_…) or a prompt's text");
            }
            entry.text = std::string(line);
        }
        lines.push_back(std::move(entry));
    }
    if (lines.empty()) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} lists no prompts", file.string()),
                    "one prompt id or prompt text per line; '#' starts a comment line");
    }
    return lines;
}

}  // namespace cosmos::services
