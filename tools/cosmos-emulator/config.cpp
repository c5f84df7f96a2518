#include "config.hpp"

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

namespace cosmos::emulator {

namespace {

const char* env(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? v : nullptr;
}

core::Unexpected bad(const char* name, std::string_view value, std::string_view expected) {
    return core::fail(core::ErrorCode::invalid_input,
                      fmt::format("cosmos-emulator: {}={} is not {}", name, value, expected));
}

core::Status read_number(const char* name, double& out) {
    const char* v = env(name);
    if (v == nullptr) {
        return {};
    }
    char* end = nullptr;
    double d = std::strtod(v, &end);
    if (end == v || *end != '\0' || !(d >= 0)) {
        return bad(name, v, "a non-negative number");
    }
    out = d;
    return {};
}

core::Status read_int(const char* name, int& out, int min) {
    const char* v = env(name);
    if (v == nullptr) {
        return {};
    }
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    if (end == v || *end != '\0' || n < min || n > 1000000) {
        return bad(name, v, fmt::format("an integer >= {}", min));
    }
    out = static_cast<int>(n);
    return {};
}

core::Status read_modes(EmulatorConfig& c) {
    if (const char* v = env("COSMOS_EMULATOR_FAIL")) {
        std::string_view s = v;
        if (s == "crash") {
            c.fail = FailMode::crash;
        } else if (s == "oom") {
            c.fail = FailMode::oom;
        } else if (s == "guardrail") {
            c.fail = FailMode::guardrail;
        } else if (s == "kill") {
            c.fail = FailMode::kill;
        } else if (s != "none") {
            return bad("COSMOS_EMULATOR_FAIL", s, "one of crash, oom, guardrail, kill, none");
        }
    }
    if (const char* v = env("COSMOS_EMULATOR_GUARDRAIL_MODE")) {
        std::string_view s = v;
        if (s == "typeerror") {
            c.guardrail = GuardrailMode::typeerror;
        } else if (s != "exit0") {
            return bad("COSMOS_EMULATOR_GUARDRAIL_MODE", s, "exit0 or typeerror");
        }
    }
    return {};
}

core::Status read_upscale_size(EmulatorConfig& c) {
    const char* v = env("COSMOS_EMULATOR_UPSCALE_SIZE");
    if (v == nullptr) {
        return {};
    }
    int w = 0, h = 0;
    char tail = 0;
    if (std::sscanf(v, "%dx%d%c", &w, &h, &tail) != 2 || w <= 0 || h <= 0 || w % 2 != 0 ||
        h % 2 != 0) {
        return bad("COSMOS_EMULATOR_UPSCALE_SIZE", v, "WxH with even positive sizes");
    }
    c.upscale_size = std::pair{w, h};
    return {};
}

}  // namespace

core::Result<EmulatorConfig> load_config() {
    EmulatorConfig c;
    for (core::Status st :
         {read_number("COSMOS_EMULATOR_LOAD_SECONDS", c.load_seconds),
          read_number("COSMOS_EMULATOR_STEP_SECONDS", c.step_seconds),
          read_number("COSMOS_EMULATOR_TIME_SCALE", c.time_scale),
          read_number("COSMOS_EMULATOR_GPU_MEMORY_GB", c.gpu_memory_gb),
          read_int("COSMOS_EMULATOR_FAIL_AT_CHUNK", c.fail_at_chunk, 1),
          read_int("COSMOS_EMULATOR_GPUS", c.gpus, 0),
          read_number("COSMOS_EMULATOR_SERVER_LOAD_SECONDS", c.server_load_seconds),
          read_int("COSMOS_EMULATOR_SERVER_CONCURRENCY", c.server_concurrency, 1),
          read_modes(c),
          read_upscale_size(c)}) {
        if (!st) {
            return core::fail(std::move(st).error());
        }
    }
    if (const char* v = env("COSMOS_EMULATOR_BLOCK_PROMPT")) {
        c.block_prompt = v;
    }
    if (const char* v = env("COSMOS_EMULATOR_STRICT")) {
        c.strict = std::string_view(v) != "0";
    }
    if (const char* v = env("COSMOS_EMULATOR_SERVER_DIR")) {
        c.server_dir = v;
    }
    if (const char* v = env("COSMOS_EMULATOR_RECORD")) {
        c.record_path = v;
    }
    return c;
}

}  // namespace cosmos::emulator
