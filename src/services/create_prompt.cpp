#include "services/create_prompt.hpp"

#include <fmt/format.h>

#include "config/templates.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/names.hpp"
#include "services/prompt_checks.hpp"
#include "store/prompt_store.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;

core::Status check_prompt_text(std::string_view text, std::string_view what) {
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
        return fail(ErrorCode::invalid_input, fmt::format("the {} is empty", what));
    }
    if (text.size() > k_max_prompt_chars) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("the {} has {} characters; at most {} are accepted",
                                what,
                                text.size(),
                                k_max_prompt_chars));
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        auto u = static_cast<unsigned char>(text[i]);
        if ((u < 0x20 && u != '\n' && u != '\t' && u != '\r') || u == 0x7f) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("the {} contains the control character \\x{:02x}", what, u));
        }
        // U+0080..U+009F (C1 controls, such as CSI) in UTF-8: 0xC2 0x80..0x9F.
        if (u == 0xc2 && i + 1 < text.size()) {
            auto next = static_cast<unsigned char>(text[i + 1]);
            if (next >= 0x80 && next <= 0x9f) {
                return fail(
                    ErrorCode::invalid_input,
                    fmt::format("the {} contains the control character U+{:04X}", what, next));
            }
        }
    }
    return {};
}

namespace {

core::Result<std::string> resolve_text(const App& app,
                                       const CreatePromptRequest& req,
                                       std::string& negative_from_template) {
    if (!req.template_name) {
        if (!req.template_values.empty()) {
            return fail(ErrorCode::invalid_input, "--set needs --template");
        }
        return req.text;
    }
    if (!req.text.empty()) {
        return fail(ErrorCode::invalid_input, "give either prompt text or --template, not both");
    }
    COSMOS_TRY(
        auto tmpl,
        config::find_template(app.config.paths.config_dir / "templates", *req.template_name));
    negative_from_template = tmpl.negative;
    return config::render_template(tmpl, req.template_values);
}

}  // namespace

core::Result<PromptDraft> draft_prompt(const App& app, const CreatePromptRequest& req) {
    std::string template_negative;
    COSMOS_TRY(std::string text, resolve_text(app, req, template_negative));
    if (auto s = check_prompt_text(text, "prompt text"); !s) {
        return fail(s.error());
    }
    std::string negative = req.negative.value_or(
        template_negative.empty() ? app.config.run.negative_prompt : template_negative);
    if (req.negative) {
        if (auto s = check_prompt_text(negative, "negative prompt"); !s) {
            return fail(s.error());
        }
    }
    std::string name;
    if (req.name) {
        if (auto s = core::validate_name(*req.name); !s) {
            return fail(s.error());
        }
        name = *req.name;
    } else {
        name = core::derive_name(text);
    }
    if (req.parent_id) {
        COSMOS_TRY(auto parent, store::get_prompt(app.db, *req.parent_id));
        if (!parent) {
            return fail(ErrorCode::not_found, fmt::format("no prompt {}", *req.parent_id));
        }
    }
    COSMOS_TRY(auto inputs, scan_input_set(req.input_dir));

    store::PromptRecord p;
    p.id = core::new_id(core::IdKind::prompt);
    p.name = name;
    p.prompt = text;
    p.negative_prompt = negative;
    p.input_dir = inputs.dir.string();
    p.input_video = inputs.color.string();
    for (const auto& [m, path] : inputs.controls) {
        p.controls[m] = path.string();
    }
    for (const auto& [m, path] : inputs.masks) {
        p.masks[m] = path.string();
    }
    p.model = app.config.run.model;
    if (req.model) {
        auto family = model::parse_family(*req.model);
        if (!family) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("unknown model '{}'", *req.model),
                        "models: transfer1, transfer2.5 (cosmos models list)");
        }
        p.model = *family;
    }
    p.video = inputs.video;
    p.parent_id = req.parent_id;
    p.template_name = req.template_name;
    p.created_at = core::now_iso();
    return PromptDraft{std::move(p), std::move(inputs)};
}

core::Result<store::PromptRecord> create_prompt(const App& app, const CreatePromptRequest& req) {
    COSMOS_TRY(auto draft, draft_prompt(app, req));
    if (auto s = store::insert_prompt(app.db, draft.record); !s) {
        return fail(s.error());
    }
    return std::move(draft.record);
}

}  // namespace cosmos::services
