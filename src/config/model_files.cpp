#include "config/model_files.hpp"

#include <algorithm>
#include <system_error>

#include <fmt/format.h>

#include "config/config_detail.hpp"
#include "config/toml_detail.hpp"
#include "core/names.hpp"
#include "core/sha256.hpp"

namespace cosmos::config {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;
using core::Status;
using detail::line_of;
using detail::type_name;

namespace {

// Reads one model file; every error names FILE:LINE.
class ModelFile {
public:
    explicit ModelFile(fs::path file) : m_file(std::move(file)) {}

    core::Result<UserModel> read() {
        COSMOS_TRY(std::string text,
                   detail::read_text_file(m_file, "model file", k_max_model_file_bytes));
        return parse(text);
    }

    core::Result<UserModel> parse(const std::string& text) {
        m.name = m_file.stem().string();
        m.file = m_file;
        if (auto s = core::validate_name(m.name); !s) {
            return detail::config_error(
                m_file, 0, "model file name: " + s.error().message, s.error().hint);
        }
        if (model::parse_family(m.name)) {
            return detail::config_error(m_file,
                                        0,
                                        fmt::format("'{}' is a model family's name", m.name),
                                        "name the file after your model, e.g. warehouse.toml");
        }
        m.sha256 = core::sha256_hex(text);
        COSMOS_TRY(toml::table root, detail::parse_toml(text, m_file));
        for (auto&& [key, node] : root) {
            COSMOS_CHECK(read_key(key, node));
        }
        COSMOS_CHECK(check());
        if (m.display_name.empty()) {
            m.display_name = m.name;
        }
        return m;
    }

private:
    Status read_key(const toml::key& key, const toml::node& node) {
        int line = line_of(key, node);
        std::string_view k = key.str();
        if (k == "defaults") {
            return read_defaults(node, line);
        }
        if (k == "extra_flags") {
            return read_flags(node, line);
        }
        if (k == "family") {
            COSMOS_TRY(auto name, text(node, line, k));
            auto family = model::parse_family(name);
            if (!family) {
                return detail::config_error(m_file,
                                            line,
                                            fmt::format("unknown family '{}'", name),
                                            "families: transfer1, transfer2.5");
            }
            m.family = *family;
            m_family_line = line;
            return {};
        }
        std::string* target = k == "display_name"      ? &m.display_name
                              : k == "description"     ? &m.description
                              : k == "checkpoint_path" ? &m.checkpoint_path
                              : k == "experiment"      ? &m.experiment
                                                       : nullptr;
        if (target == nullptr) {
            return detail::unknown_key_error(m_file,
                                             line,
                                             k,
                                             "the model file",
                                             {"family",
                                              "display_name",
                                              "description",
                                              "checkpoint_path",
                                              "experiment",
                                              "extra_flags",
                                              "defaults"});
        }
        COSMOS_TRY(*target, text(node, line, k));
        if (k == "checkpoint_path" || k == "experiment") {
            m_t25_only_line = line;
            m_t25_only_key = std::string(k);
        }
        return {};
    }

    core::Result<std::string> text(const toml::node& node, int line, std::string_view key) const {
        const auto* v = node.as_string();
        if (v == nullptr) {
            return detail::wrong_type_error(
                m_file, line, "the model file", key, "a string", type_name(node));
        }
        return std::string(v->get());
    }

    Status read_flags(const toml::node& node, int line) {
        const auto* arr = node.as_array();
        if (arr == nullptr) {
            return detail::wrong_type_error(m_file,
                                            line,
                                            "the model file",
                                            "extra_flags",
                                            "an array of strings",
                                            type_name(node));
        }
        for (const auto& item : *arr) {
            const auto* v = item.as_string();
            if (v == nullptr) {
                return detail::wrong_type_error(
                    m_file, line, "extra_flags", "item", "a string", type_name(item));
            }
            m.extra_flags.emplace_back(v->get());
        }
        if (!m.extra_flags.empty() && !m.extra_flags.front().starts_with("-")) {
            return detail::config_error(
                m_file,
                line,
                fmt::format("extra_flags starts with '{}', which is no flag",
                            m.extra_flags.front()),
                "extra_flags are appended to the model's command line: [\"--flag\", \"value\"]");
        }
        return {};
    }

    Status read_defaults(const toml::node& node, int line) {
        const auto* table = node.as_table();
        if (table == nullptr) {
            return detail::wrong_type_error(
                m_file, line, "the model file", "defaults", "a table", type_name(node));
        }
        for (auto&& [key, value] : *table) {
            COSMOS_CHECK(read_default(key.str(), value, line_of(key, value)));
        }
        return {};
    }

    Status read_default(std::string_view k, const toml::node& v, int line) {
        auto wrong = [&](std::string_view expected) {
            return detail::wrong_type_error(m_file, line, "[defaults]", k, expected, type_name(v));
        };
        if (k == "num_steps" || k == "seed") {
            const auto* i = v.as_integer();
            if (i == nullptr) {
                return wrong("an integer");
            }
            (k == "seed" ? m.defaults.seed : m.defaults.num_steps) = i->get();
        } else if (k == "guidance") {
            auto d = v.value<double>();
            if (!d || !(v.is_integer() || v.is_floating_point())) {
                return wrong("a number");
            }
            m.defaults.guidance = *d;
        } else if (k == "resolution" || k == "variant") {
            const auto* s = v.as_string();
            if (s == nullptr) {
                return wrong("a string");
            }
            (k == "resolution" ? m.defaults.resolution : m.defaults.variant) = s->get();
        } else if (k == "weights") {
            return read_weights(v, line);
        } else {
            return detail::unknown_key_error(
                m_file,
                line,
                k,
                "[defaults]",
                {"num_steps", "guidance", "seed", "resolution", "variant", "weights"});
        }
        return {};
    }

    Status read_weights(const toml::node& v, int line) {
        const auto* t = v.as_table();
        if (t == nullptr) {
            return detail::wrong_type_error(
                m_file, line, "[defaults]", "weights", "a table", type_name(v));
        }
        for (auto&& [control, w] : *t) {
            auto d = w.value<double>();
            if (!d || !(w.is_integer() || w.is_floating_point())) {
                return detail::wrong_type_error(m_file,
                                                line_of(control, w),
                                                "weights",
                                                control.str(),
                                                "a number",
                                                type_name(w));
            }
            m.defaults.weights[std::string(control.str())] = *d;
        }
        return {};
    }

    Status check() const {
        if (m_family_line == 0) {
            return detail::config_error(m_file,
                                        0,
                                        "the model file names no family",
                                        "add family = \"transfer2.5\" (or \"transfer1\")");
        }
        if (m.family == model::Family::transfer1 && m_t25_only_line > 0) {
            return detail::config_error(
                m_file,
                m_t25_only_line,
                fmt::format("{} is a Cosmos-Transfer2.5 setting; this model is a transfer1 one",
                            m_t25_only_key),
                "for Transfer1 set defaults and extra_flags (e.g. [\"--checkpoint_dir\", DIR])");
        }
        if (m.defaults.variant || m.defaults.resolution) {
            if (m.family == model::Family::transfer1) {
                return detail::config_error(
                    m_file,
                    m_family_line,
                    "[defaults] variant and resolution are Cosmos-"
                    "Transfer2.5 parameters; this model is a transfer1 one");
            }
        }
        return {};
    }

    fs::path m_file;
    UserModel m;
    int m_family_line = 0;
    int m_t25_only_line = 0;
    std::string m_t25_only_key;
};

}  // namespace

core::Result<UserModel> parse_user_model(const std::string& text, const fs::path& file) {
    return ModelFile(file).parse(text);
}

fs::path models_dir(const fs::path& config_dir) {
    return config_dir / "models";
}

core::Result<std::vector<UserModel>> load_user_models(const fs::path& dir) {
    std::vector<UserModel> out;
    std::error_code ec;
    if (dir.empty() || !fs::is_directory(dir, ec)) {
        return out;
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        // Any kind of entry: reading one that is not a regular file says so.
        if (entry.path().extension() == ".toml") {
            files.push_back(entry.path());
        }
    }
    if (ec) {
        return fail(ErrorCode::io,
                    fmt::format("cannot list model files in {}: {}", dir.string(), ec.message()));
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
        COSMOS_TRY(auto m, ModelFile(file).read());
        out.push_back(std::move(m));
    }
    return out;
}

}  // namespace cosmos::config
