#include "transfer25_args.hpp"

#include <algorithm>
#include <regex>

#include <fmt/format.h>

#include "log.hpp"
#include "python_error.hpp"
#include "transfer25_spec.hpp"

namespace cosmos::emulator {

using Json = nlohmann::ordered_json;

namespace {

const std::vector<std::string> k_models = {"edge", "depth", "seg", "vis", "edge/distilled"};
const std::vector<std::string> k_compile = {"none", "moderate", "aggressive"};

std::string kebab(std::string name) {
    std::replace(name.begin(), name.end(), '_', '-');
    return name;
}

std::string snake(std::string name) {
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

bool is_flag(const std::string& token) {
    static const std::regex k_number(R"(^-\d+$|^-\d*\.\d+$)");
    return token.size() > 1 && token[0] == '-' && !std::regex_match(token, k_number);
}

// The values after a flag: "--flag=value", or the following tokens up to the next flag.
struct Taken {
    std::string flag;
    std::vector<std::string> values;
};

Taken take(const std::vector<std::string>& argv, std::size_t& i, bool many) {
    Taken t;
    const std::string& token = argv[i];
    auto eq = token.find('=');
    t.flag = token.substr(0, eq);
    if (eq != std::string::npos) {
        t.values.push_back(token.substr(eq + 1));
        return t;
    }
    while (i + 1 < argv.size() && !is_flag(argv[i + 1])) {
        t.values.push_back(argv[++i]);
        if (!many) {
            break;
        }
    }
    return t;
}

core::Status one_value(const Taken& t) {
    if (t.values.size() != 1) {
        return usage_error(fmt::format("Argument {}: expected 1 argument", t.flag));
    }
    return {};
}

core::Result<std::int64_t> int_value(const std::string& flag, const std::string& text) {
    static const std::regex k_int(R"(^[+-]?\d{1,18}$)");
    if (!std::regex_match(text, k_int)) {
        return usage_error(fmt::format("Argument {}: invalid int value: {}", flag, py_repr(text)));
    }
    return std::stoll(text);
}

core::Status choice_value(const std::string& flag,
                          const std::string& text,
                          const std::vector<std::string>& choices) {
    if (std::find(choices.begin(), choices.end(), text) != choices.end()) {
        return {};
    }
    return usage_error(fmt::format("Argument {}: invalid choice: {} (choose from {})",
                                   flag,
                                   py_repr(text),
                                   fmt::join(choices, ", ")));
}

// A spec field given on the command line: typed as tyro would, "None" meaning no override.
core::Status take_override(const FieldDef& def, const Taken& t, Setup25& s) {
    if (def.kind == FieldKind::int_list) {
        Json list = Json::array();
        for (const std::string& v : t.values) {
            COSMOS_TRY(std::int64_t n, int_value(t.flag, v));
            list.push_back(n);
        }
        s.overrides[def.name] = list;
        return {};
    }
    COSMOS_CHECK(one_value(t));
    const std::string& text = t.values[0];
    if (text == "None") {
        s.overrides.erase(def.name);
        return {};
    }
    switch (def.kind) {
        case FieldKind::integer:
        case FieldKind::choice: {
            if (def.kind == FieldKind::choice && def.choices.front().is_string()) {
                s.overrides[def.name] = text;
                return {};
            }
            COSMOS_TRY(std::int64_t n, int_value(t.flag, text));
            s.overrides[def.name] = n;
            return {};
        }
        case FieldKind::boolean:
            COSMOS_CHECK(choice_value(t.flag, text, {"None", "True", "False"}));
            s.overrides[def.name] = text == "True";
            return {};
        default:
            s.overrides[def.name] = text;
            return {};
    }
}

// The setup flags that take no value: --name / --no-name.
bool* bool_flag(Setup25& s, const std::string& name) {
    if (name == "disable-guardrails") {
        return &s.disable_guardrails;
    }
    if (name == "offload-guardrail-models") {
        return &s.offload_guardrail_models;
    }
    if (name == "keep-going") {
        return &s.keep_going;
    }
    if (name == "profile") {
        return &s.profile;
    }
    if (name == "benchmark") {
        return &s.benchmark;
    }
    return name == "enable-parallel-tokenizer" ? &s.enable_parallel_tokenizer : nullptr;
}

core::Status take_setup(const Taken& t, Setup25& s, bool& known) {
    known = true;
    const std::string name = t.flag.substr(2);
    if (name == "output-dir" || name == "model" || name == "checkpoint-path" ||
        name == "experiment" || name == "config-file" || name == "compile-tokenizer") {
        COSMOS_CHECK(one_value(t));
        const std::string& v = t.values[0];
        if (name == "output-dir") {
            s.output_dir = v;
        } else if (name == "model") {
            COSMOS_CHECK(choice_value(t.flag, v, k_models));
            s.model = v;
        } else if (name == "compile-tokenizer") {
            COSMOS_CHECK(choice_value(t.flag, v, k_compile));
            s.compile_tokenizer = v;
        } else if (name == "config-file") {
            s.config_file = v;
        } else {
            auto& target = name == "checkpoint-path" ? s.checkpoint_path : s.experiment;
            target = v == "None" ? std::nullopt : std::optional<std::string>(v);
        }
        return {};
    }
    if (name == "context-parallel-size") {
        COSMOS_CHECK(one_value(t));
        if (t.values[0] == "None") {
            s.context_parallel_size.reset();
            return {};
        }
        COSMOS_TRY(s.context_parallel_size, int_value(t.flag, t.values[0]));
        return {};
    }
    if (name == "parallel-tokenizer-grid") {
        if (t.values.size() != 2) {
            return usage_error(fmt::format("Argument {}: expected 2 arguments", t.flag));
        }
        for (std::size_t i = 0; i < 2; ++i) {
            COSMOS_TRY(s.parallel_tokenizer_grid[i], int_value(t.flag, t.values[i]));
        }
        return {};
    }
    known = false;
    return {};
}

core::Status take_flag(const std::vector<std::string>& argv, std::size_t& i, Setup25& s) {
    const std::string token = argv[i];
    std::string bare = token.substr(0, token.find('='));
    std::string name = bare.starts_with("--") ? bare.substr(2) : "";
    bool negated = name.starts_with("no-");
    if (bool* target = bool_flag(s, negated ? name.substr(3) : name)) {
        if (bare != token) {
            return usage_error(fmt::format("Argument {}: expected 0 arguments", bare));
        }
        *target = !negated;
        return {};
    }
    if (bare == "-i" || bare == "--input-files") {
        Taken t = take(argv, i, true);
        if (t.values.empty()) {
            return usage_error(fmt::format("Argument {}: expected at least 1 argument", bare));
        }
        s.input_files.insert(s.input_files.end(), t.values.begin(), t.values.end());
        return {};
    }
    const FieldDef* def =
        name.find('_') == std::string::npos ? find_sample_field(snake(name)) : nullptr;
    Taken t = take(argv, i, def != nullptr && def->kind == FieldKind::int_list);
    if (bare == "-o") {
        t.flag = "--output-dir";
    }
    bool known = false;
    COSMOS_CHECK(take_setup(t, s, known));
    if (known) {
        return {};
    }
    if (def != nullptr && is_override_field(*def)) {
        return take_override(*def, t, s);
    }
    return usage_error(fmt::format("Unrecognized options: {}", token));
}

}  // namespace

Json Setup25::to_json() const {
    auto opt = [](const auto& o) { return o ? Json(*o) : Json(nullptr); };
    return Json{{"input_files", input_files},
                {"output_dir", output_dir},
                {"model", model},
                {"checkpoint_path", opt(checkpoint_path)},
                {"experiment", opt(experiment)},
                {"config_file", config_file},
                {"context_parallel_size", opt(context_parallel_size)},
                {"disable_guardrails", disable_guardrails},
                {"offload_guardrail_models", offload_guardrail_models},
                {"keep_going", keep_going},
                {"profile", profile},
                {"benchmark", benchmark},
                {"compile_tokenizer", compile_tokenizer},
                {"enable_parallel_tokenizer", enable_parallel_tokenizer},
                {"parallel_tokenizer_grid", parallel_tokenizer_grid},
                {"overrides", overrides}};
}

core::Result<Setup25> parse_transfer25_args(const std::vector<std::string>& argv) {
    Setup25 s;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& token = argv[i];
        if (token == "-h" || token == "--help") {
            s.help = true;
            return s;
        }
        if (token.starts_with("control:")) {
            // the subcommand that documents one control's fields; main() ignores its values
            const std::string key = token.substr(8);
            const auto& keys = control_keys25();
            if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
                return usage_error(fmt::format("Unrecognized subcommand: {}", token));
            }
            continue;
        }
        if (!is_flag(token)) {
            return usage_error(fmt::format("Unrecognized arguments: {}", token));
        }
        COSMOS_CHECK(take_flag(argv, i, s));
    }
    std::vector<std::string> missing;
    if (s.input_files.empty()) {
        missing.push_back("--input-files/-i");
    }
    if (s.output_dir.empty()) {
        missing.push_back("--output-dir/-o");
    }
    if (!missing.empty()) {
        return usage_error(fmt::format("Required options: {} (missing)", fmt::join(missing, ", ")));
    }
    return s;
}

std::string transfer25_usage_error(const std::string& message) {
    const std::string help = "For full helptext, run inference.py --help";
    const std::size_t width = std::max(message.size(), help.size()) + 2;
    auto rule = [](std::size_t n) {
        std::string out;
        for (std::size_t k = 0; k < n; ++k) {
            out += "─";
        }
        return out;
    };
    auto row = [&](const std::string& text) {
        return "│ " + text + std::string(width - 2 - text.size(), ' ') + " │\n";
    };
    const std::string title = "─ Parsing error ";
    return "╭" + title + rule(width - 16) + "╮\n" + row(message) + "│ " + rule(width - 2) + " │\n" +
           row(help) + "╰" + rule(width) + "╯\n";
}

std::string transfer25_help() {
    std::string out =
        "usage: inference.py [-h] [OPTIONS] "
        "[{control:edge,control:depth,control:vis,control:seg}]\n"
        "\n"
        "options:\n"
        "  -h, --help              show this help message and exit\n"
        "  -i, --input-files PATH [PATH ...]\n"
        "                          Path(s) to the inference parameter file(s) (.json or .jsonl)\n"
        "  -o, --output-dir PATH   Output directory. (required)\n"
        "  --model {edge,depth,seg,vis,edge/distilled}\n"
        "  --checkpoint-path {None}|STR\n"
        "  --experiment {None}|STR\n"
        "  --config-file STR\n"
        "  --context-parallel-size {None}|INT\n"
        "  --disable-guardrails, --no-disable-guardrails\n"
        "  --offload-guardrail-models, --no-offload-guardrail-models\n"
        "  --keep-going, --no-keep-going\n"
        "  --profile, --no-profile\n"
        "  --benchmark, --no-benchmark\n"
        "  --compile-tokenizer {none,moderate,aggressive}\n"
        "  --enable-parallel-tokenizer, --no-enable-parallel-tokenizer\n"
        "  --parallel-tokenizer-grid INT INT\n"
        "\noverrides options (win over the spec files):\n";
    for (const FieldDef& f : sample_fields()) {
        if (is_override_field(f)) {
            out += fmt::format("  --{} (default: None)\n", kebab(f.name));
        }
    }
    return out;
}

}  // namespace cosmos::emulator
