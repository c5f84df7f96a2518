#pragma once
// Prompt templates: TOML files with a text containing {placeholders}, an optional negative
// prompt and default values. A few are built in; users add their own as
// <config_dir>/templates/NAME.toml, which win over built-ins of the same name.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace cosmos::config {

struct PromptTemplate {
    std::string name;
    std::string description;
    std::string text;      // e.g. "A {subject} at {time_of_day}, photoreal"
    std::string negative;  // empty: use the configured default negative prompt
    std::map<std::string, std::string> defaults;
    std::string origin;  // "built-in" or the file path
};

// Returns every template: built-ins and those in `templates_dir`, sorted by name.
core::Result<std::vector<PromptTemplate>> list_templates(
    const std::filesystem::path& templates_dir);

// Returns the template `name`; fails with not_found naming the available ones.
core::Result<PromptTemplate> find_template(const std::filesystem::path& templates_dir,
                                           const std::string& name);

// Returns the template's text with each {key} replaced from `values`, then `defaults`.
// Fails with invalid_input naming a placeholder left without a value, or a key in `values`
// the template does not use.
core::Result<std::string> render_template(const PromptTemplate& tmpl,
                                          const std::map<std::string, std::string>& values);

}  // namespace cosmos::config
