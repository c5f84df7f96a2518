#pragma once
// OpenAI-style error bodies, as vLLM answers them:
// {"error": {"message", "type", "param", "code"}}.

#include <string_view>

#include <nlohmann/json.hpp>

namespace cosmos::emulator {

// `status` 400 gives type "BadRequestError", 404 "NotFoundError", 409 "ConflictError", other
// codes "InternalServerError". `param` empty: null.
nlohmann::ordered_json openai_error(int status, std::string_view message, std::string_view param);

}  // namespace cosmos::emulator
