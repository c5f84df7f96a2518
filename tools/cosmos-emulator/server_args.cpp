#include "server_args.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cosmos::emulator {

namespace {

constexpr std::string_view k_reasoner_arch = "Cosmos3ReasonerForConditionalGeneration";
constexpr std::string_view k_omni_class = "Cosmos3OmniDiffusersPipeline";

core::Unexpected arg_error(std::string message) {
    return core::fail(core::ErrorCode::invalid_input, std::move(message));
}

core::Status to_int(std::string_view flag, const std::string& text, int lo, int hi, int& out) {
    int v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi) {
        return arg_error(fmt::format("argument {}: invalid int value: '{}'", flag, text));
    }
    out = v;
    return {};
}

// One parsed command line: flags with values, flags without, positionals.
struct RawArgs {
    std::map<std::string, std::string> values;
    std::vector<std::string> switches;
    std::vector<std::string> positionals;
};

struct FlagTable {
    std::vector<std::string_view> valued;    // take one value (also as --flag=value)
    std::vector<std::string_view> switches;  // take none
    std::map<std::string_view, std::string_view> aliases;
};

bool has(const std::vector<std::string_view>& list, std::string_view name) {
    return std::find(list.begin(), list.end(), name) != list.end();
}

core::Result<RawArgs> split_args(const FlagTable& table, const std::vector<std::string>& argv) {
    RawArgs raw;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        std::string arg = argv[i];
        if (arg.size() < 2 || arg[0] != '-') {
            raw.positionals.push_back(arg);
            continue;
        }
        std::optional<std::string> inline_value;
        if (auto eq = arg.find('='); eq != std::string::npos) {
            inline_value = arg.substr(eq + 1);
            arg.resize(eq);
        }
        if (auto alias = table.aliases.find(arg); alias != table.aliases.end()) {
            arg = alias->second;
        }
        if (has(table.switches, arg) && !inline_value) {
            raw.switches.push_back(arg);
        } else if (has(table.valued, arg)) {
            if (!inline_value && (i + 1 >= argv.size() || argv[i + 1].rfind("--", 0) == 0)) {
                return arg_error(fmt::format("argument {}: expected one argument", arg));
            }
            raw.values[arg] = inline_value ? *inline_value : argv[++i];
        } else {
            return arg_error(fmt::format("unrecognized arguments: {}", argv[i]));
        }
    }
    return raw;
}

const FlagTable& vllm_flags() {
    static const FlagTable table{
        {"--model",
         "--port",
         "--host",
         "--api-key",
         "--ssl-certfile",
         "--ssl-keyfile",
         "--allowed-local-media-path",
         "--model-class-name",
         "--hf-overrides",
         "--tensor-parallel-size",
         "--served-model-name",
         "--dtype",
         "--max-model-len",
         "--gpu-memory-utilization",
         "--download-dir",
         "--seed",
         "--max-num-seqs",
         "--uvicorn-log-level",
         "--limit-mm-per-prompt",
         "--data-parallel-size",
         "--pipeline-parallel-size",
         "--revision",
         "--tokenizer",
         "--chat-template",
         "--mm-processor-kwargs",
         "--max-num-batched-tokens"},
        {"--omni",
         "--trust-remote-code",
         "--enforce-eager",
         "--disable-log-requests",
         "--disable-log-stats",
         "--enable-prefix-caching",
         "--no-enable-prefix-caching"},
        {{"-tp", "--tensor-parallel-size"}, {"-dp", "--data-parallel-size"}}};
    return table;
}

const FlagTable& sglang_flags() {
    static const FlagTable table{{"--model-path",
                                  "--port",
                                  "--host",
                                  "--api-key",
                                  "--ssl-certfile",
                                  "--ssl-keyfile",
                                  "--num-gpus",
                                  "--tp-size",
                                  "--served-model-name",
                                  "--dtype",
                                  "--mem-fraction-static",
                                  "--log-level",
                                  "--random-seed",
                                  "--context-length",
                                  "--download-dir"},
                                 {"--trust-remote-code", "--enable-torch-compile"},
                                 {{"--model", "--model-path"}, {"--tp", "--tp-size"}}};
    return table;
}

bool is_cosmos3(std::string_view model) {
    std::string lower(model);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return lower.find("cosmos3") != std::string::npos ||
           lower.find("cosmos-3") != std::string::npos;
}

core::Result<bool> overrides_name_reasoner(const std::string& text) {
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
        return arg_error(fmt::format("argument --hf-overrides: invalid loads value: '{}'", text));
    }
    auto arch = json.find("architectures");
    if (arch == json.end() || !arch->is_array()) {
        return false;
    }
    return std::any_of(arch->begin(), arch->end(), [](const nlohmann::json& a) {
        return a.is_string() && a.get<std::string>() == k_reasoner_arch;
    });
}

core::Status vllm_role(const RawArgs& raw, ServerOptions& out) {
    bool omni = std::find(raw.switches.begin(), raw.switches.end(), "--omni") != raw.switches.end();
    bool reasoner = false;
    if (auto it = raw.values.find("--hf-overrides"); it != raw.values.end()) {
        COSMOS_TRY(reasoner, overrides_name_reasoner(it->second));
    }
    if (auto it = raw.values.find("--model-class-name");
        it != raw.values.end() && it->second != k_omni_class) {
        return arg_error(fmt::format(
            "argument --model-class-name: '{}' is not {} (the only class the emulator serves)",
            it->second,
            k_omni_class));
    }
    if (omni == reasoner) {
        return arg_error(fmt::format(
            "{}: serve the Cosmos 3 generator with --omni, or the Reasoner with --hf-overrides "
            "'{{\"architectures\": [\"{}\"]}}' (one of the two)",
            omni ? "--omni and the Reasoner architecture together" : "no role",
            k_reasoner_arch));
    }
    out.role = omni ? ServerRole::generator : ServerRole::reasoner;
    return {};
}

core::Status common_values(const RawArgs& raw, ServerOptions& out) {
    if (auto it = raw.values.find("--port"); it != raw.values.end()) {
        COSMOS_CHECK(to_int("--port", it->second, 0, 65535, out.port));
    }
    if (auto it = raw.values.find("--host"); it != raw.values.end()) {
        out.host = it->second;
    }
    if (auto it = raw.values.find("--api-key"); it != raw.values.end()) {
        out.api_key = it->second;
    }
    if (auto it = raw.values.find("--served-model-name"); it != raw.values.end()) {
        out.served_name = it->second;
    }
    if (auto it = raw.values.find("--ssl-certfile"); it != raw.values.end()) {
        out.ssl_certfile = it->second;
    }
    if (auto it = raw.values.find("--ssl-keyfile"); it != raw.values.end()) {
        out.ssl_keyfile = it->second;
    }
    if (out.ssl_certfile.empty() != out.ssl_keyfile.empty()) {
        return arg_error("argument --ssl-certfile/--ssl-keyfile: both are needed to serve HTTPS");
    }
    return {};
}

core::Result<ServerOptions> parse_vllm(const RawArgs& raw) {
    ServerOptions out;
    out.flavour = ServerFlavour::vllm;
    std::vector<std::string> pos(raw.positionals.begin() + 1, raw.positionals.end());
    if (auto it = raw.values.find("--model"); it != raw.values.end()) {
        pos.insert(pos.begin(), it->second);
    }
    if (pos.size() > 1) {
        return arg_error(fmt::format("unrecognized arguments: {}", pos[1]));
    }
    out.model = pos.empty() ? "Qwen/Qwen3-0.6B" : pos[0];  // vLLM's default model
    COSMOS_CHECK(common_values(raw, out));
    COSMOS_CHECK(vllm_role(raw, out));
    if (auto it = raw.values.find("--tensor-parallel-size"); it != raw.values.end()) {
        COSMOS_CHECK(to_int("--tensor-parallel-size", it->second, 1, 64, out.gpus));
    }
    if (auto it = raw.values.find("--allowed-local-media-path"); it != raw.values.end()) {
        out.allowed_media_path = it->second;
    }
    return out;
}

core::Result<ServerOptions> parse_sglang(const RawArgs& raw) {
    ServerOptions out;
    out.flavour = ServerFlavour::sglang;
    out.port = 30000;
    if (raw.positionals.size() > 1) {
        return arg_error(fmt::format("unrecognized arguments: {}", raw.positionals[1]));
    }
    auto model = raw.values.find("--model-path");
    if (model == raw.values.end()) {
        return arg_error("the following arguments are required: --model-path");
    }
    out.model = model->second;
    COSMOS_CHECK(common_values(raw, out));
    for (const char* flag : {"--num-gpus", "--tp-size"}) {
        if (auto it = raw.values.find(flag); it != raw.values.end()) {
            COSMOS_CHECK(to_int(flag, it->second, 1, 64, out.gpus));
        }
    }
    return out;
}

}  // namespace

std::string_view flavour_name(ServerFlavour flavour) {
    return flavour == ServerFlavour::vllm ? "vllm" : "sglang";
}

std::string_view role_name(ServerRole role) {
    return role == ServerRole::generator ? "generator" : "reasoner";
}

std::string server_usage(ServerFlavour flavour) {
    return flavour == ServerFlavour::vllm
               ? "usage: vllm serve [model_tag] [options]\n"
               : "usage: sglang serve --model-path MODEL_PATH [--port PORT] [--host HOST] "
                 "[--api-key API_KEY] [--num-gpus NUM_GPUS] [options]\n";
}

core::Result<ServerOptions> parse_server_args(ServerFlavour flavour,
                                              const std::vector<std::string>& argv) {
    const FlagTable& table = flavour == ServerFlavour::vllm ? vllm_flags() : sglang_flags();
    COSMOS_TRY(RawArgs raw, split_args(table, argv));
    if (raw.positionals.empty() || raw.positionals[0] != "serve") {
        return arg_error(
            fmt::format("argument subparser: invalid choice: '{}' (choose from 'serve')",
                        raw.positionals.empty() ? "" : raw.positionals[0]));
    }
    COSMOS_TRY(ServerOptions out,
               flavour == ServerFlavour::vllm ? parse_vllm(raw) : parse_sglang(raw));
    if (!is_cosmos3(out.model)) {
        return arg_error(
            fmt::format("model '{}' is not a Cosmos 3 model: the emulator serves only "
                        "nvidia/Cosmos3-Nano and nvidia/Cosmos3-Super (or a local "
                        "path naming Cosmos3)",
                        out.model));
    }
    if (out.served_name.empty()) {
        out.served_name = out.model;
    }
    return out;
}

}  // namespace cosmos::emulator
