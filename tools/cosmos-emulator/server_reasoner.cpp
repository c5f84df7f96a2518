#include "server_reasoner.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <random>
#include <sstream>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "server_facts.hpp"
#include "server_openai.hpp"

namespace cosmos::emulator {

namespace {

constexpr std::string_view k_refusal =
    "I'm sorry, but I can't help with that request. It goes against the content safety policy.";

struct ChatRequest {
    std::string text;       // every message's text, joined by newlines
    std::string user_text;  // the last user message's text
    std::vector<std::string> video_urls;
    int max_tokens = 4096;
};

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return s;
}

core::Unexpected bad(std::string message, std::string param) {
    return core::fail(core::ErrorCode::invalid_input, std::move(message), std::move(param));
}

core::Status read_content(const nlohmann::json& content, ChatRequest& req, std::string& text) {
    if (content.is_string()) {
        text += content.get<std::string>();
        return {};
    }
    if (!content.is_array()) {
        return bad("message content must be a string or a list of parts", "messages");
    }
    for (const auto& part : content) {
        std::string type = part.is_object() ? part.value("type", "") : "";
        if (type == "text" && part.contains("text") && part["text"].is_string()) {
            text += (text.empty() ? "" : "\n") + part["text"].get<std::string>();
        } else if (type == "video_url" && part.contains("video_url") &&
                   part["video_url"].is_object() && part["video_url"].contains("url") &&
                   part["video_url"]["url"].is_string()) {
            req.video_urls.push_back(part["video_url"]["url"].get<std::string>());
        } else if (type != "image_url") {
            return bad(fmt::format("unsupported message content part '{}'", type), "messages");
        }
    }
    return {};
}

core::Result<ChatRequest> parse_request(const nlohmann::json& body) {
    ChatRequest req;
    auto messages = body.find("messages");
    if (messages == body.end() || !messages->is_array() || messages->empty()) {
        return bad("messages must be a non-empty list", "messages");
    }
    for (const auto& m : *messages) {
        std::string role = m.is_object() ? m.value("role", "") : "";
        if (role != "system" && role != "user" && role != "assistant") {
            return bad("each message needs a role: system, user or assistant", "messages");
        }
        std::string text;
        COSMOS_CHECK(read_content(m.value("content", nlohmann::json("")), req, text));
        req.text += text + "\n";
        if (role == "user") {
            req.user_text = text;
        }
    }
    if (auto mt = body.find("max_tokens"); mt != body.end() && !mt->is_null()) {
        if (!mt->is_number_integer() || mt->get<std::int64_t>() < 1) {
            return bad("max_tokens must be a positive integer", "max_tokens");
        }
        req.max_tokens = static_cast<int>(std::min<std::int64_t>(mt->get<std::int64_t>(), 1 << 20));
    }
    if (auto t = body.find("temperature"); t != body.end() && !t->is_null()) {
        if (!t->is_number() || t->get<double>() < 0 || t->get<double>() > 2) {
            return bad("temperature must be a number between 0 and 2", "temperature");
        }
    }
    return req;
}

// The prompt to rewrite: the first quoted passage, else the text after the first colon, else
// the whole text.
std::string original_prompt(const std::string& text) {
    for (auto [open, close] :
         {std::pair<std::string_view, std::string_view>{"\"", "\""}, {"\u201c", "\u201d"}}) {
        auto a = text.find(open);
        if (a != std::string::npos) {
            auto b = text.find(close, a + open.size());
            if (b != std::string::npos && b > a + open.size()) {
                return text.substr(a + open.size(), b - a - open.size());
            }
        }
    }
    auto colon = text.find(':');
    std::string rest = colon != std::string::npos ? text.substr(colon + 1) : text;
    auto first = rest.find_first_not_of(" \t\r\n");
    auto last = rest.find_last_not_of(" \t\r\n");
    return first == std::string::npos ? text : rest.substr(first, last - first + 1);
}

std::string motion_words(double change) {
    return change < 1 ? "no visible" : change < 5 ? "gentle" : change < 15 ? "steady" : "rapid";
}

int plausibility_score(double change) {
    return change < 2 ? 5 : change < 5 ? 4 : change < 10 ? 3 : change < 20 ? 2 : 1;
}

std::string caption(const std::vector<VideoFacts>& videos) {
    std::string out;
    for (std::size_t i = 0; i < videos.size(); ++i) {
        const VideoFacts& v = videos[i];
        out += fmt::format(
            "{}The video{} has {} frames at {}x{} ({:.0f} fps, {:.1f} seconds). "
            "The scene is dominated by {} tones, with {} motion between frames.",
            i == 0 ? "" : " ",
            videos.size() > 1 ? fmt::format(" {}", i + 1) : "",
            v.frames,
            v.width,
            v.height,
            v.fps,
            v.fps > 0 ? double(v.frames) / v.fps : 0.0,
            v.colour,
            motion_words(v.change));
    }
    return out;
}

std::string plausibility(const std::vector<VideoFacts>& videos) {
    if (videos.empty()) {
        return "<think>\nNo video was given, so there is no motion to judge.\n</think>\n"
               "Score: 3\nReason: no video was provided; the score is neutral.";
    }
    const VideoFacts& v = videos.front();
    const int score = plausibility_score(v.change);
    return fmt::format(
        "<think>\nThe video has {} frames at {}x{}, mostly {}. The mean change between "
        "consecutive frames is {:.2f} of 255, which reads as {} motion. {}\n</think>\n"
        "Score: {}\nReason: {}",
        v.frames,
        v.width,
        v.height,
        v.colour,
        v.change,
        motion_words(v.change),
        score >= 4 ? "Objects keep their shape and move continuously."
                   : "Content jumps between frames in ways real objects do not.",
        score,
        score >= 4   ? "motion is smooth and continuous, consistent with real physics."
        : score == 3 ? "motion is mostly continuous with some abrupt changes."
                     : "frames change abruptly; objects appear and vanish without physical cause.");
}

std::string enhance(const std::string& user_text) {
    return original_prompt(user_text) +
           " The scene is captured in photorealistic detail under natural, consistent lighting "
           "with soft shadows. The camera moves smoothly and steadily, textures stay coherent from "
           "frame to frame, and every object moves with believable weight and momentum.";
}

// Cuts `answer` to `max_tokens` words; true when it was cut.
bool truncate_words(std::string& answer, int max_tokens) {
    std::size_t pos = 0;
    for (int n = 0; n < max_tokens; ++n) {
        pos = answer.find_first_not_of(" \n", pos);
        if (pos == std::string::npos) {
            return false;
        }
        pos = answer.find_first_of(" \n", pos);
        if (pos == std::string::npos) {
            return false;
        }
    }
    if (answer.find_first_not_of(" \n", pos) == std::string::npos) {
        return false;
    }
    answer.resize(pos);
    return true;
}

int count_words(const std::string& s) {
    std::istringstream in(s);
    int n = 0;
    for (std::string w; in >> w;) {
        ++n;
    }
    return n;
}

nlohmann::ordered_json completion(const ReasonerContext& ctx,
                                  std::string answer,
                                  const ChatRequest& req) {
    bool cut = truncate_words(answer, req.max_tokens);
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const int prompt_tokens = count_words(req.text) + 256 * int(req.video_urls.size());
    const int completion_tokens = count_words(answer);
    nlohmann::ordered_json message{{"role", "assistant"}, {"content", answer}};
    nlohmann::ordered_json choice{
        {"index", 0}, {"message", message}, {"finish_reason", cut ? "length" : "stop"}};
    return {{"id", fmt::format("chatcmpl-{:016x}{:016x}", rng(), rng())},
            {"object", "chat.completion"},
            {"created",
             std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count()},
            {"model", ctx.model},
            {"choices", nlohmann::ordered_json::array({choice})},
            {"usage",
             {{"prompt_tokens", prompt_tokens},
              {"completion_tokens", completion_tokens},
              {"total_tokens", prompt_tokens + completion_tokens}}}};
}

core::Result<std::vector<VideoFacts>> analyse_all(const ReasonerContext& ctx,
                                                  const ChatRequest& req) {
    std::vector<VideoFacts> facts;
    for (const std::string& url : req.video_urls) {
        COSMOS_TRY(ResolvedVideo video,
                   resolve_video_url(url, ctx.allowed_media_path, ctx.scratch));
        auto f = analyse_video(video.path);
        if (video.temporary) {
            std::error_code ec;
            std::filesystem::remove(video.path, ec);
        }
        if (!f) {
            return core::fail(std::move(f).error());
        }
        facts.push_back(*f);
    }
    return facts;
}

ChatOutcome error_outcome(ChatOutcome out, const core::Error& e) {
    out.status = e.code == core::ErrorCode::invalid_input ? 400 : 500;
    out.body = openai_error(out.status, e.message, e.hint);
    return out;
}

}  // namespace

std::string classify_chat(const std::string& text, int videos) {
    const std::string t = lower(text);
    auto has = [&](std::string_view w) { return t.find(w) != std::string::npos; };
    if (has("plausib")) {
        return "plausibility";
    }
    if (videos > 0 && (has("caption") || has("describe") || has("description"))) {
        return "caption";
    }
    if (has("prompt") && (has("rewrite") || has("upsample") || has("enhance") || has("expand") ||
                          has("improve") || has("refine"))) {
        return "enhance";
    }
    return "other";
}

ChatOutcome answer_chat(const ReasonerContext& ctx, const std::string& text) {
    ChatOutcome out;
    auto body = nlohmann::json::parse(text, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        return error_outcome(
            out,
            core::Error{
                core::ErrorCode::invalid_input, "the request body is not a JSON object", ""});
    }
    if (auto m = body.find("model"); m != body.end() && m->is_string() && *m != ctx.model) {
        out.status = 404;
        out.body = openai_error(
            404, fmt::format("The model `{}` does not exist.", m->get<std::string>()), "model");
        return out;
    }
    auto req = parse_request(body);
    if (!req) {
        return error_outcome(out, req.error());
    }
    out.videos = static_cast<int>(req->video_urls.size());
    out.task = classify_chat(req->text, out.videos);
    auto facts = analyse_all(ctx, *req);
    if (!facts) {
        return error_outcome(out, facts.error());
    }
    const std::string& block = ctx.config.block_prompt;
    out.blocked = !block.empty() && req->text.find(block) != std::string::npos;
    std::string answer = out.blocked             ? std::string(k_refusal)
                         : out.task == "enhance" ? enhance(req->user_text)
                         : out.task == "caption" ? caption(*facts)
                         : out.task == "plausibility"
                             ? plausibility(*facts)
                             : fmt::format(
                                   "This is the emulated {}. I can rewrite "
                                   "prompts, caption videos and judge "
                                   "their physical plausibility.",
                                   ctx.model);
    out.body = completion(ctx, std::move(answer), *req);
    return out;
}

}  // namespace cosmos::emulator
