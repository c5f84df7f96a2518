#include "services/reasoner.hpp"

#include <fstream>
#include <regex>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "backends/model_server.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/names.hpp"
#include "core/read_file.hpp"
#include "core/temp_name.hpp"
#include "media/probe.hpp"
#include "media/scaled_clip.hpp"
#include "services/input_set.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t k_max_clip = 48ULL << 20;

std::string base64(const std::string& data) {
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(data.data()),
                            static_cast<int>(data.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// A small clip of `video` (at most 480 lines, 64 frames) as a data: URL.
core::Result<std::string> clip_url(const fs::path& video,
                                   int width,
                                   int height,
                                   const fs::path& tmp) {
    double scale = std::min(1.0, 480.0 / std::max(1, std::min(width, height)));
    media::ClipOptions o;
    o.width = std::max(2, static_cast<int>(width * scale) / 2 * 2);
    o.height = std::max(2, static_cast<int>(height * scale) / 2 * 2);
    o.max_frames = 64;
    std::error_code ec;
    fs::create_directories(tmp.parent_path(), ec);
    COSMOS_TRY(auto frames, media::write_scaled_clip(video, tmp, o));
    (void)frames;
    auto data = core::read_file(tmp, k_max_clip, "clip for the Reasoner");
    fs::remove(tmp, ec);
    if (!data) {
        return fail(data.error());
    }
    return "data:video/mp4;base64," + base64(*data);
}

nlohmann::json ask(const std::string& system, const std::string& text, const std::string& url) {
    return nlohmann::json::array(
        {{{"role", "system"}, {"content", system}},
         {{"role", "user"},
          {"content",
           nlohmann::json::array({{{"type", "video_url"}, {"video_url", {{"url", url}}}},
                                  {{"type", "text"}, {"text", text}}})}}});
}

core::Result<std::string> call(const config::HostConfig& host, const nlohmann::json& messages) {
    COSMOS_TRY(auto lease, backends::open_server(host));
    std::string model = host.server.model;
    if (model.empty()) {
        COSMOS_TRY(auto models, backends::served_models(lease.endpoint));
        model = models.empty() ? std::string("nvidia/Cosmos3-Nano") : models.front();
    }
    COSMOS_TRY(auto answer, backends::chat(lease.endpoint, model, messages, 1024));
    return answer;
}

// The answer without a leading <think>...</think> block and surrounding blank space.
std::string final_text(const std::string& answer) {
    std::string s = answer;
    auto end = s.find("</think>");
    if (end != std::string::npos) {
        s = s.substr(end + 8);
    }
    auto first = s.find_first_not_of(" \n\r\t");
    auto last = s.find_last_not_of(" \n\r\t");
    return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
}

fs::path run_video(const store::RunRecord& run) {
    return run.output_video ? fs::path(*run.output_video) : fs::path();
}

}  // namespace

core::Result<config::HostConfig> reasoner_host(const App& app,
                                               const std::optional<std::string>& name) {
    if (name) {
        COSMOS_TRY(auto host, config::find_host(app.config, *name));
        if (!host.serves() || host.server.role != "reasoner") {
            return fail(ErrorCode::invalid_input,
                        fmt::format("host {} serves no Reasoner", host.name),
                        "pick a host with role = \"reasoner\" (cosmos hosts add NAME --kind http "
                        "--url URL --role reasoner)");
        }
        return host;
    }
    for (const auto& [n, h] : app.config.hosts) {
        if (h.serves() && h.server.role == "reasoner") {
            return h;
        }
    }
    return fail(ErrorCode::not_found,
                "no host serves the Cosmos 3 Reasoner",
                "add one: cosmos hosts add NAME --kind http --url URL --role reasoner (or an ssh "
                "host with --serve --role reasoner); docs/models/cosmos3.md");
}

core::Result<store::PromptRecord> reasoner_enhance(const App& app,
                                                   const std::string& prompt_id,
                                                   const std::optional<std::string>& host_name) {
    COSMOS_TRY(auto host, reasoner_host(app, host_name));
    COSMOS_TRY(auto found, store::get_prompt(app.db, prompt_id));
    if (!found) {
        return fail(ErrorCode::not_found,
                    fmt::format("no prompt {}", prompt_id),
                    "list prompts with `cosmos list prompts`");
    }
    const store::PromptRecord& parent = *found;
    if (!parent.input_video) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("prompt {} has no color video to show the Reasoner", prompt_id));
    }
    fs::path tmp = app.data_dir() / "tmp" / (core::new_id(core::IdKind::run) + "_reasoner.mp4");
    COSMOS_TRY(auto url,
               clip_url(*parent.input_video, parent.video.width, parent.video.height, tmp));
    // (No colon before the prompt's own: a reader takes the prompt from after the first one.)
    std::string text = fmt::format(
        "Rewrite and enhance this video generation prompt, adding rich, concrete visual detail "
        "taken from the video (lighting, materials, weather, camera). Keep every subject and "
        "action of the original. Answer with the enhanced prompt only.\n\nPrompt: {}",
        parent.prompt);
    COSMOS_TRY(auto answer,
               call(host, ask("You are a prompt writer for a world model.", text, url)));
    std::string enhanced = final_text(answer);
    if (enhanced.empty() || enhanced.size() > 8000) {
        return fail(ErrorCode::remote_failed,
                    fmt::format("the Reasoner of host {} gave no usable prompt", host.name));
    }
    store::PromptRecord p = parent;
    p.id = core::new_id(core::IdKind::prompt);
    p.prompt = enhanced;
    std::string base = parent.name.size() > 40 ? parent.name.substr(0, 40) : parent.name;
    p.name = core::sanitize_name(base + "_enhanced");
    p.parent_id = parent.id;
    p.template_name.reset();
    p.source = "reasoner:" + host.name;
    p.created_at = core::now_iso();
    COSMOS_CHECK(store::insert_prompt(app.db, p));
    return p;
}

core::Result<Caption> reasoner_caption(const App& app,
                                       const std::string& dir,
                                       const std::optional<std::string>& host_name) {
    COSMOS_TRY(auto host, reasoner_host(app, host_name));
    COSMOS_TRY(auto inputs, scan_input_set(dir));
    fs::path tmp = app.data_dir() / "tmp" / (core::new_id(core::IdKind::run) + "_caption.mp4");
    COSMOS_TRY(auto url, clip_url(inputs.color, inputs.video.width, inputs.video.height, tmp));
    COSMOS_TRY(auto answer,
               call(host,
                    ask("You are a prompt writer for a world model.",
                        "Caption this video as a prompt for a video generation model: describe "
                        "the scene, subjects, actions, lighting and camera in one paragraph. "
                        "Answer with the caption only.",
                        url)));
    std::string text = final_text(answer);
    if (text.empty()) {
        return fail(ErrorCode::remote_failed,
                    fmt::format("the Reasoner of host {} gave no caption", host.name));
    }
    return Caption{inputs.dir.string(), inputs.color.string(), text};
}

nlohmann::ordered_json parse_review(const std::string& answer) {
    std::string text = final_text(answer);
    nlohmann::ordered_json review = {{"score", nullptr}, {"reason", ""}, {"answer", answer}};
    static const std::regex score(R"((?:^|\n)\s*\**score\**\s*[:=]\s*([1-5])\b)",
                                  std::regex::icase);
    static const std::regex reason(R"((?:^|\n)\s*\**reason\**\s*[:=]\s*([^\n]+))",
                                   std::regex::icase);
    std::smatch m;
    if (std::regex_search(text, m, score)) {
        review["score"] = std::stoi(m[1].str());
    }
    if (std::regex_search(text, m, reason)) {
        review["reason"] = m[1].str();
    }
    return review;
}

core::Result<nlohmann::ordered_json> reasoner_review(const App& app,
                                                     const std::string& run_id,
                                                     const std::optional<std::string>& host_name) {
    COSMOS_TRY(auto host, reasoner_host(app, host_name));
    COSMOS_TRY(auto run, store::require_run(app.db, run_id));
    fs::path video = run_video(run);
    std::error_code ec;
    if (run.status != store::RunStatus::succeeded || video.empty() ||
        !fs::is_regular_file(video, ec)) {
        return fail(
            ErrorCode::conflict,
            fmt::format(
                "run {} has no output video to review ({})", run_id, store::to_string(run.status)));
    }
    COSMOS_TRY(auto info, media::probe_video(video));
    fs::path tmp = app.run_dir(run_id) / "review_clip.mp4";
    COSMOS_TRY(auto url, clip_url(video, info.width, info.height, tmp));
    COSMOS_TRY(auto answer,
               call(host,
                    ask("You are a critic of generated videos.",
                        "Is this video physically plausible? Judge the physical plausibility "
                        "of its motion, contacts, lighting and object permanence. Answer with "
                        "two lines: `Score: N` (1 = implausible, 5 = fully plausible) and "
                        "`Reason: ...` (one sentence).",
                        url)));
    auto review = parse_review(answer);
    review["host"] = host.name;
    review["at"] = core::now_iso();
    fs::path file = app.run_dir(run_id) / "review.json";
    fs::create_directories(file.parent_path(), ec);
    fs::path part = core::temp_sibling(file.string());
    {
        std::ofstream out(part, std::ios::trunc);
        out << review.dump(2) << "\n";
        if (!out.flush()) {
            return fail(ErrorCode::io, fmt::format("cannot write {}", file.string()));
        }
    }
    fs::rename(part, file, ec);
    if (ec) {
        return fail(ErrorCode::io, fmt::format("cannot write {}: {}", file.string(), ec.message()));
    }
    COSMOS_CHECK(store::add_run_note(
        app.db,
        run_id,
        fmt::format("reviewed by host {}: plausibility {}",
                    host.name,
                    review["score"].is_null() ? std::string("unscored") : review["score"].dump())));
    return review;
}

std::optional<nlohmann::ordered_json> stored_review(const App& app, const std::string& run_id) {
    std::error_code ec;
    fs::path file = app.run_dir(run_id) / "review.json";
    if (!fs::exists(file, ec)) {
        return std::nullopt;
    }
    auto text = core::read_file(file, core::kSpecFileMax, "review");
    if (!text) {
        return std::nullopt;
    }
    auto j = nlohmann::ordered_json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return std::nullopt;
    }
    return j;
}

}  // namespace cosmos::services
