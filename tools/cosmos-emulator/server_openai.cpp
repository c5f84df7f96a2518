#include "server_openai.hpp"

#include <string>

namespace cosmos::emulator {

nlohmann::ordered_json openai_error(int status, std::string_view message, std::string_view param) {
    const char* type = status == 400   ? "BadRequestError"
                       : status == 404 ? "NotFoundError"
                       : status == 409 ? "ConflictError"
                                       : "InternalServerError";
    nlohmann::ordered_json error;
    error["message"] = std::string(message);
    error["type"] = type;
    error["param"] = param.empty() ? nlohmann::ordered_json(nullptr)
                                   : nlohmann::ordered_json(std::string(param));
    error["code"] = status;
    return {{"error", std::move(error)}};
}

}  // namespace cosmos::emulator
