#pragma once
// `cosmos create prompt`: text (typed or from a template) + an input set -> a stored prompt.

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "services/app.hpp"
#include "services/input_set.hpp"
#include "store/records.hpp"

namespace cosmos::services {

struct CreatePromptRequest {
    std::string text;  // may be empty when a template gives it
    std::filesystem::path input_dir;
    std::optional<std::string> name;
    std::optional<std::string> negative;
    std::optional<std::string> template_name;
    std::map<std::string, std::string> template_values;
    std::optional<std::string> parent_id;
    std::optional<std::string> model;  // a family; default: [run] model
};

struct PromptDraft {
    store::PromptRecord record;
    InputSet inputs;
};

// Longest prompt text accepted.
inline constexpr std::size_t k_max_prompt_chars = 10000;

// Validates the request and builds the record without writing anything: text (or template),
// name (given names are checked, never rewritten), negative prompt (default from config),
// input set. Fails with invalid_input / not_found saying what is wrong.
core::Result<PromptDraft> draft_prompt(const App& app, const CreatePromptRequest& req);

// Validates and stores the prompt; returns it.
core::Result<store::PromptRecord> create_prompt(const App& app, const CreatePromptRequest& req);

}  // namespace cosmos::services
