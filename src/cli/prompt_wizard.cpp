#include "cli/prompt_wizard.hpp"

#include <iostream>

#include <fmt/format.h>

#include "scheduler/run_spec.hpp"
#include "services/create_prompt.hpp"
#include "services/create_run.hpp"
#include "store/prompt_store.hpp"

namespace cosmos::cli {

using core::ErrorCode;
using core::fail;

namespace {

core::Result<std::string> ask(std::istream& in,
                              const std::string& question,
                              const std::string& fallback = {}) {
    std::cerr << question;
    if (!fallback.empty()) {
        std::cerr << " [" << fallback << "]";
    }
    std::cerr << ": " << std::flush;
    std::string line;
    if (!std::getline(in, line)) {
        std::cerr << '\n';
        return fail(ErrorCode::invalid_input, "input ended before the prompt was complete");
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
        line.pop_back();
    }
    return line.empty() ? fallback : line;
}

void show_preview(const services::App& app, const Output& out, const services::PromptDraft& d) {
    std::cerr << out.style("Preview", "1") << '\n';
    std::cerr << fmt::format("  name      {}\n  input     {} ({} frames, {}x{}, {:.3g} fps)\n",
                             d.record.name,
                             d.record.input_dir,
                             d.record.video.frames,
                             d.record.video.width,
                             d.record.video.height,
                             d.record.video.fps);
    for (const auto& [m, path] : d.record.controls) {
        std::cerr << fmt::format("  control   {:<9} {}\n", m, path);
    }
    for (const auto& f : d.inputs.ignored) {
        std::cerr << fmt::format("  ignored   {}\n", f);
    }
    store::RunRecord run;
    auto params = services::resolve_run_params(app, d.record, {});
    if (params) {
        run.params = *params;
    }
    auto spec = params ? scheduler::local_spec(d.record, run)
                       : core::Result<nlohmann::ordered_json>(core::fail(params.error()));
    std::cerr << out.style("Spec a run with the default parameters would send:", "1") << '\n';
    if (spec) {
        std::cerr << spec->dump(2) << '\n';
        std::cerr << out.style("validation: ok", "32") << '\n';
    } else {
        std::cerr << out.style("validation: " + spec.error().message, "31") << '\n';
    }
}

}  // namespace

core::Result<std::optional<store::PromptRecord>> run_prompt_wizard(
    const services::App& app,
    const Output& out,
    std::istream& in,
    services::CreatePromptRequest base) {
    services::CreatePromptRequest req = std::move(base);
    if (req.template_name) {
        std::cerr << fmt::format("Text from template {}\n", *req.template_name);
    } else {
        COSMOS_TRY(req.text, ask(in, "Prompt text", req.text));
    }
    const std::string offered = req.input_dir.string();
    for (int attempt = 0;; ++attempt) {
        COSMOS_TRY(std::string dir, ask(in, "Input folder (color.mp4 + control videos)", offered));
        req.input_dir = dir;
        auto draft = services::draft_prompt(app, req);
        if (draft) {
            break;
        }
        std::cerr << out.style("  " + draft.error().message, "31") << '\n';
        if (!draft.error().hint.empty()) {
            std::cerr << "  hint: " << draft.error().hint << '\n';
        }
        if (attempt >= 2) {
            return fail(draft.error());
        }
    }
    COSMOS_TRY(auto first, services::draft_prompt(app, req));
    COSMOS_TRY(std::string name, ask(in, "Name", first.record.name));
    if (name != first.record.name) {
        req.name = name;
    }
    COSMOS_TRY(std::string negative, ask(in, "Negative prompt (Enter keeps the default)"));
    if (!negative.empty()) {
        req.negative = negative;
    }
    COSMOS_TRY(auto draft, services::draft_prompt(app, req));
    show_preview(app, out, draft);
    COSMOS_TRY(std::string yes, ask(in, "Save this prompt? (y/n)", "y"));
    if (yes != "y" && yes != "Y" && yes != "yes") {
        return std::optional<store::PromptRecord>();  // declined: a choice, not an error
    }
    if (auto s = store::insert_prompt(app.db, draft.record); !s) {
        return fail(s.error());
    }
    return std::optional<store::PromptRecord>(std::move(draft.record));
}

}  // namespace cosmos::cli
