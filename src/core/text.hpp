#pragma once
// Small text helpers shared by the parsers (schedules, prompts files, HTTP headers, nvidia-smi
// and Slurm output).

#include <string_view>

namespace cosmos::core {

// `s` without the characters of `blanks` at either end.
constexpr std::string_view trim(std::string_view s, std::string_view blanks = " \t\r") {
    auto b = s.find_first_not_of(blanks);
    if (b == std::string_view::npos) {
        return {};
    }
    return s.substr(b, s.find_last_not_of(blanks) - b + 1);
}

}  // namespace cosmos::core
