#pragma once
// The emulated Cosmos 3 Reasoner behind POST /v1/chat/completions: deterministic answers to
// the three instructions the orchestrator sends (docs/emulator.md "The emulated Reasoner"):
// prompt enhancement, video captions, physical-plausibility scores.

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "config.hpp"

namespace cosmos::emulator {

struct ReasonerContext {
    const EmulatorConfig& config;
    std::string model;               // the served model name
    std::string allowed_media_path;  // empty: file:// URLs refused
    std::filesystem::path scratch;   // where data: URLs are decoded
};

struct ChatOutcome {
    int status = 200;
    nlohmann::ordered_json body;
    std::string task = "other";  // "enhance", "caption", "plausibility", "other"
    int videos = 0;
    bool blocked = false;
};

// Answers one request body (JSON text); errors come back as OpenAI error objects with 400
// (bad request, refused URL) or 404 (unknown model).
ChatOutcome answer_chat(const ReasonerContext& ctx, const std::string& body);

// Which instruction `text` (the messages' text, lower-cased or not) gives with `videos`
// videos attached: "plausibility" (mentions "plausib"), "caption" (a video and "caption" /
// "describe" / "description"), "enhance" ("prompt" and one of rewrite / upsample / enhance /
// expand / improve / refine), else "other".
std::string classify_chat(const std::string& text, int videos);

}  // namespace cosmos::emulator
