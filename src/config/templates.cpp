// Prompt templates: the built-ins and user files <templates_dir>/NAME.toml (read with toml++;
// the only other file that includes it is config_parse.cpp).

#include "config/templates.hpp"

#include <algorithm>
#include <array>
#include <system_error>

#include <fmt/format.h>

#include "config/config_detail.hpp"
#include "config/template_text.hpp"
#include "config/toml_detail.hpp"
#include "core/names.hpp"
#include "core/read_file.hpp"

namespace cosmos::config {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

namespace {

using detail::line_of;
using detail::type_name;

// Built-ins for artists turning renders (color + depth/seg/edge passes) into photoreal video.
std::vector<PromptTemplate> builtin_templates() {
    std::vector<PromptTemplate> t = {
        {"photoreal",
         "Any render made photoreal: name the subject, optionally the light",
         "{subject}, photorealistic, natural lighting, {time_of_day}. Real camera footage with "
         "true-to-life materials, accurate reflections and soft shadows, subtle film grain.",
         "",
         {{"time_of_day", "soft morning light"}},
         "built-in"},
        {"driving",
         "A road scene seen from a car-mounted camera (dashcam / AV footage)",
         "A road scene captured from a car-mounted camera driving through {location} at "
         "{time_of_day}. Real vehicles, pedestrians, road markings and buildings, natural "
         "motion, realistic reflections on the cars and the road, photorealistic footage.",
         "",
         {{"location", "a busy city street"}, {"time_of_day", "midday"}},
         "built-in"},
        {"weather",
         "The same scene under other weather: name the scene and the weather",
         "{subject}, the same scene in {weather}. The weather changes the sky, the light and "
         "every surface realistically, physically plausible and photorealistic footage.",
         "",
         {{"weather", "light rain"}},
         "built-in"},
        {"product",
         "A product shot: name the product and the surface it stands on",
         "A product shot of {product} on {surface}, studio lighting with soft reflections, "
         "shallow depth of field, slow camera move, photorealistic commercial footage.",
         "",
         {{"surface", "a clean white table"}},
         "built-in"},
    };
    return t;
}

// Reads one user template file; every error names FILE:LINE.
class TemplateFile {
public:
    explicit TemplateFile(fs::path file) : m_file(std::move(file)) {}

    core::Result<PromptTemplate> read() {
        m_tmpl.name = m_file.stem().string();
        m_tmpl.origin = m_file.string();
        if (auto s = core::validate_name(m_tmpl.name); !s) {
            return detail::config_error(
                m_file, 0, "template file name: " + s.error().message, s.error().hint);
        }
        COSMOS_TRY(std::string text,
                   detail::read_text_file(m_file, "template file", core::kTemplateFileMax));
        COSMOS_TRY(toml::table root, detail::parse_toml(text, m_file));
        std::vector<std::pair<const toml::key*, const toml::node*>> entries;
        for (auto&& [key, node] : root) {
            entries.emplace_back(&key, &node);
        }
        std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
            return line_of(*a.first, *a.second) < line_of(*b.first, *b.second);
        });
        for (const auto& [key, node] : entries) {
            if (auto s = read_key(*key, *node); !s) {
                return fail(std::move(s).error());
            }
        }
        if (auto s = check(); !s) {
            return fail(std::move(s).error());
        }
        return m_tmpl;
    }

private:
    core::Status read_key(const toml::key& key, const toml::node& node) {
        int line = line_of(key, node);
        std::string_view k = key.str();
        if (k == "defaults") {
            return read_defaults(line, node);
        }
        std::string* target = k == "name"          ? &m_name
                              : k == "description" ? &m_tmpl.description
                              : k == "text"        ? &m_tmpl.text
                              : k == "negative"    ? &m_tmpl.negative
                                                   : nullptr;
        if (target == nullptr) {
            return detail::unknown_key_error(
                m_file,
                line,
                k,
                "the template",
                {"name", "description", "text", "negative", "defaults"});
        }
        const auto* v = node.as_string();
        if (v == nullptr) {
            return detail::wrong_type_error(
                m_file, line, "template", k, "a string", type_name(node));
        }
        *target = v->get();
        if (k == "name") {
            m_name_line = line;
        } else if (k == "text") {
            m_text_line = line;
        }
        return {};
    }

    core::Status read_defaults(int line, const toml::node& node) {
        const auto* table = node.as_table();
        if (table == nullptr) {
            return detail::wrong_type_error(
                m_file, line, "template", "defaults", "a table", type_name(node));
        }
        for (auto&& [key, value] : *table) {
            const auto* v = value.as_string();
            if (v == nullptr) {
                return detail::wrong_type_error(m_file,
                                                line_of(key, value),
                                                "[defaults]",
                                                key.str(),
                                                "a string",
                                                type_name(value));
            }
            m_tmpl.defaults[std::string(key.str())] = v->get();
            m_default_lines[std::string(key.str())] = line_of(key, value);
        }
        return {};
    }

    core::Status check() {
        if (m_name_line > 0 && m_name != m_tmpl.name) {
            return detail::config_error(
                m_file,
                m_name_line,
                fmt::format("name '{}' differs from the file name '{}'", m_name, m_tmpl.name),
                fmt::format("rename the file to {}.toml or drop the name key", m_name));
        }
        if (m_text_line == 0) {
            return detail::config_error(
                m_file, 0, "the template has no text", "add text = \"... {subject} ...\"");
        }
        auto pieces = split_template_text(m_tmpl.text);
        if (!pieces) {
            return detail::config_error(
                m_file, m_text_line, pieces.error().message, pieces.error().hint);
        }
        auto names = placeholder_names(*pieces);
        for (const auto& [key, value] : m_tmpl.defaults) {
            if (std::find(names.begin(), names.end(), key) == names.end()) {
                return detail::config_error(
                    m_file,
                    m_default_lines[key],
                    fmt::format("[defaults] {} is not a placeholder of text", key),
                    fmt::format("placeholders: {}", detail::join(names)));
            }
        }
        return {};
    }

    fs::path m_file;
    PromptTemplate m_tmpl;
    std::string m_name;
    int m_name_line = 0;
    int m_text_line = 0;
    std::map<std::string, int> m_default_lines;
};

std::vector<std::string> names_of(const std::vector<PromptTemplate>& templates) {
    std::vector<std::string> names;
    for (const auto& t : templates) {
        names.push_back(t.name);
    }
    return names;
}

std::string braced(const std::vector<std::string>& names) {
    std::vector<std::string> out;
    for (const auto& n : names) {
        out.push_back("{" + n + "}");
    }
    return out.empty() ? std::string("none") : detail::join(out);
}

}  // namespace

core::Result<std::vector<PromptTemplate>> list_templates(const fs::path& templates_dir) {
    std::map<std::string, PromptTemplate> by_name;
    for (auto& t : builtin_templates()) {
        by_name[t.name] = std::move(t);
    }
    std::error_code ec;
    if (!templates_dir.empty() && fs::is_directory(templates_dir, ec)) {
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(templates_dir, ec)) {
            // Any kind of entry: reading one that is not a regular file says so.
            if (entry.path().extension() == ".toml") {
                files.push_back(entry.path());
            }
        }
        if (ec) {
            return fail(
                ErrorCode::io,
                fmt::format(
                    "cannot list templates in {}: {}", templates_dir.string(), ec.message()));
        }
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            COSMOS_TRY(PromptTemplate t, TemplateFile(file).read());
            by_name[t.name] = std::move(t);  // a user template wins over a built-in
        }
    }
    std::vector<PromptTemplate> out;
    for (auto& [name, t] : by_name) {
        out.push_back(std::move(t));
    }
    return out;
}

core::Result<PromptTemplate> find_template(const fs::path& templates_dir, const std::string& name) {
    COSMOS_TRY(std::vector<PromptTemplate> all, list_templates(templates_dir));
    for (auto& t : all) {
        if (t.name == name) {
            return std::move(t);
        }
    }
    return fail(
        ErrorCode::not_found,
        fmt::format("unknown template '{}' (available: {})", name, detail::join(names_of(all))),
        fmt::format("add your own as {}", (templates_dir / (name + ".toml")).string()));
}

core::Result<std::string> render_template(const PromptTemplate& tmpl,
                                          const std::map<std::string, std::string>& values) {
    auto pieces = split_template_text(tmpl.text);
    if (!pieces) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("template '{}': {}", tmpl.name, pieces.error().message),
                    pieces.error().hint);
    }
    std::vector<std::string> names = placeholder_names(*pieces);
    for (const auto& [key, value] : values) {
        if (std::find(names.begin(), names.end(), key) == names.end()) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("template '{}' has no placeholder {{{}}} (placeholders: {})",
                                    tmpl.name,
                                    key,
                                    braced(names)),
                        "check the spelling of --set " + key);
        }
    }
    std::string out;
    for (const auto& piece : *pieces) {
        if (!piece.is_placeholder) {
            out += piece.text;
            continue;
        }
        const std::string* value = nullptr;
        if (auto it = values.find(piece.text); it != values.end()) {
            value = &it->second;
        } else if (auto d = tmpl.defaults.find(piece.text); d != tmpl.defaults.end()) {
            value = &d->second;
        }
        if (value == nullptr) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("template '{}' needs a value for {{{}}}: add --set {}=...",
                                    tmpl.name,
                                    piece.text,
                                    piece.text));
        }
        out += *value;
    }
    return out;
}

}  // namespace cosmos::config
