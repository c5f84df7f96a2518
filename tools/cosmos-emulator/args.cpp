#include "args.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <regex>

#include <fmt/format.h>

#include "log.hpp"
#include "options.hpp"
#include "python_error.hpp"

namespace cosmos::emulator {

namespace {

// argparse treats "-5" and "-.5" as values, not options (no option looks like a number).
bool looks_negative_number(const std::string& t) {
    static const std::regex k_number(R"(^-\d+$|^-\d*\.\d+$)");
    return std::regex_match(t, k_number);
}

// As argparse: "-5" is a value, and so is anything holding a space ("-a prompt").
bool is_option_like(const std::string& t) {
    return t.size() > 1 && t[0] == '-' && !looks_negative_number(t) &&
           t.find(' ') == std::string::npos;
}

std::string strip(std::string_view s) {
    auto first = s.find_first_not_of(" \t\n\r\f\v");
    if (first == std::string_view::npos) {
        return {};
    }
    auto last = s.find_last_not_of(" \t\n\r\f\v");
    return std::string(s.substr(first, last - first + 1));
}

// Python's int(text): optional sign, digits with single underscores between them.
std::optional<std::int64_t> python_int(std::string_view text) {
    static const std::regex k_int(R"(^[+-]?\d+(_\d+)*$)");
    std::string s = strip(text);
    if (!std::regex_match(s, k_int)) {
        return std::nullopt;
    }
    s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
    errno = 0;
    long long v = std::strtoll(s.c_str(), nullptr, 10);
    if (errno == ERANGE) {
        return std::nullopt;
    }
    return v;
}

// Python's float(text): decimal or exponent notation, inf/infinity/nan, no hex.
std::optional<double> python_float(std::string_view text) {
    static const std::regex k_float(
        R"(^[+-]?((\d+(_\d+)*)?\.?\d+(_\d+)*([eE][+-]?\d+)?|\d+(_\d+)*\.|inf|infinity|nan)$)",
        std::regex::icase);
    std::string s = strip(text);
    if (!std::regex_match(s, k_float)) {
        return std::nullopt;
    }
    s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
    return std::strtod(s.c_str(), nullptr);
}

// Converts `text` for option `o` and checks its choices, with argparse's messages.
core::Result<nlohmann::ordered_json> convert(const OptionDef& o, const std::string& text) {
    nlohmann::ordered_json value;
    std::string shown = py_repr(text);
    if (o.kind == ArgKind::integer) {
        auto v = python_int(text);
        if (!v) {
            return usage_error(fmt::format("argument --{}: invalid int value: {}", o.dest, shown));
        }
        value = *v;
        shown = std::to_string(*v);
    } else if (o.kind == ArgKind::real) {
        auto v = python_float(text);
        if (!v) {
            return usage_error(
                fmt::format("argument --{}: invalid float value: {}", o.dest, shown));
        }
        value = *v;
    } else {
        value = text;
    }
    if (!o.choices.empty() &&
        std::find(o.choices.begin(), o.choices.end(), o.kind == ArgKind::str ? text : shown) ==
            o.choices.end()) {
        std::vector<std::string> shown_choices;
        for (const auto& c : o.choices) {
            shown_choices.push_back(o.kind == ArgKind::str ? py_repr(c) : c);
        }
        return usage_error(fmt::format("argument --{}: invalid choice: {} (choose from {})",
                                       o.dest,
                                       shown,
                                       fmt::join(shown_choices, ", ")));
    }
    return value;
}

// Resolves "--name" (exact or a unique prefix, as allow_abbrev does). Returns nullptr for an
// unknown name and "help" for --help; fails when a prefix is ambiguous.
core::Result<const OptionDef*> resolve(const std::string& name, bool& is_help) {
    is_help = false;
    if (const OptionDef* exact = find_option(name.substr(2))) {
        return exact;
    }
    std::vector<std::string> matches;
    const OptionDef* match = nullptr;
    if (std::string_view("--help").starts_with(name)) {
        matches.push_back("--help");
    }
    for (const OptionDef& o : transfer_options()) {
        if (("--" + o.dest).starts_with(name)) {
            matches.push_back("--" + o.dest);
            match = &o;
        }
    }
    if (matches.size() > 1) {
        return usage_error(
            fmt::format("ambiguous option: {} could match {}", name, fmt::join(matches, ", ")));
    }
    if (matches.size() == 1 && match == nullptr) {
        is_help = true;
    }
    return match;
}

struct ParseState {
    ParsedArgs out;
    std::vector<std::string> extras;
    std::vector<std::string> seen;
};

// Handles the option token at argv[i]; advances i past any value it consumes.
core::Status take_option(const std::vector<std::string>& argv, std::size_t& i, ParseState& st) {
    const std::string& token = argv[i];
    if (token == "-h" || token == "--help") {
        st.out.help = true;
        return {};
    }
    if (!token.starts_with("--")) {
        st.extras.push_back(token);
        return {};
    }
    auto eq = token.find('=');
    std::string name = token.substr(0, eq);
    bool is_help = false;
    COSMOS_TRY(const OptionDef* opt, resolve(name, is_help));
    if (is_help) {
        st.out.help = true;
        return {};
    }
    if (opt == nullptr) {
        st.extras.push_back(token);
        return {};
    }
    if (opt->kind == ArgKind::flag) {
        if (eq != std::string::npos) {
            return usage_error(fmt::format("argument --{}: ignored explicit argument {}",
                                           opt->dest,
                                           py_repr(token.substr(eq + 1))));
        }
        st.out.values[opt->dest] = true;
    } else {
        std::string text;
        if (eq != std::string::npos) {
            text = token.substr(eq + 1);
        } else if (i + 1 < argv.size() && !is_option_like(argv[i + 1])) {
            text = argv[++i];
        } else {
            return usage_error(fmt::format("argument --{}: expected one argument", opt->dest));
        }
        COSMOS_TRY(auto value, convert(*opt, text));
        st.out.values[opt->dest] = std::move(value);
    }
    st.seen.push_back(opt->dest);
    return {};
}

}  // namespace

core::Result<ParsedArgs> parse_transfer_args(const std::vector<std::string>& argv) {
    ParseState st;
    st.out.argv = argv;
    for (const OptionDef& o : transfer_options()) {
        st.out.values[o.dest] = o.default_value;
    }
    for (std::size_t i = 0; i < argv.size(); ++i) {
        if (argv[i] == "--") {
            st.extras.insert(st.extras.end(), argv.begin() + static_cast<long>(i) + 1, argv.end());
            break;
        }
        if (!is_option_like(argv[i])) {
            st.extras.push_back(argv[i]);
            continue;
        }
        core::Status taken = take_option(argv, i, st);
        if (!taken) {
            return core::fail(std::move(taken).error());
        }
        if (st.out.help) {
            return std::move(st.out);
        }
    }
    std::vector<std::string> missing;
    for (const OptionDef& o : transfer_options()) {
        if (o.required && std::find(st.seen.begin(), st.seen.end(), o.dest) == st.seen.end()) {
            missing.push_back("--" + o.dest);
        }
    }
    if (!missing.empty()) {
        return usage_error(
            fmt::format("the following arguments are required: {}", fmt::join(missing, ", ")));
    }
    if (!st.extras.empty()) {
        return usage_error(fmt::format("unrecognized arguments: {}", fmt::join(st.extras, " ")));
    }
    return std::move(st.out);
}

bool appears_as_token(const std::vector<std::string>& argv, const std::string& token) {
    return std::find(argv.begin(), argv.end(), token) != argv.end();
}

}  // namespace cosmos::emulator
