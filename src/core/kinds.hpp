#pragma once
// The kinds the product knows, as enums at every boundary inside the program. Strings exist
// only where kinds are stored or shown — the SQLite store, JSON, the TOML config, messages —
// and to_string / parse_* are the one place that converts (fmt formats them by name).

#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace cosmos::core {

// Where jobs run: this machine, an SSH host, a Slurm cluster, or a model server someone else
// runs, reached over HTTP (served models only: docs/models/cosmos3.md).
enum class HostKind { local, ssh, slurm, http };

// How the model runs on a host: in the host's Python environment, in a docker container, in an
// apptainer image.
enum class RuntimeKind { native, docker, apptainer };

// What a run does: a transfer (the model on a prompt), a 4K upscale of a transfer's output, the
// prompt upsampler.
enum class RunKind { transfer, upscale, enhance };

std::string_view to_string(HostKind kind);
std::string_view to_string(RuntimeKind kind);
std::string_view to_string(RunKind kind);

// nullopt for a name that is not a kind.
std::optional<HostKind> parse_host_kind(std::string_view name);
std::optional<RuntimeKind> parse_runtime_kind(std::string_view name);
std::optional<RunKind> parse_run_kind(std::string_view name);

// nlohmann::json writes kinds by name too (found by ADL; no JSON header needed here).
template <class Json>
void to_json(Json& j, HostKind kind) {
    j = std::string(to_string(kind));
}
template <class Json>
void to_json(Json& j, RuntimeKind kind) {
    j = std::string(to_string(kind));
}
template <class Json>
void to_json(Json& j, RunKind kind) {
    j = std::string(to_string(kind));
}

}  // namespace cosmos::core

// fmt formats kinds by name ("{}" of HostKind::ssh is "ssh").
template <>
struct fmt::formatter<cosmos::core::HostKind> : fmt::formatter<std::string_view> {
    auto format(cosmos::core::HostKind k, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(cosmos::core::to_string(k), ctx);
    }
};
template <>
struct fmt::formatter<cosmos::core::RuntimeKind> : fmt::formatter<std::string_view> {
    auto format(cosmos::core::RuntimeKind k, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(cosmos::core::to_string(k), ctx);
    }
};
template <>
struct fmt::formatter<cosmos::core::RunKind> : fmt::formatter<std::string_view> {
    auto format(cosmos::core::RunKind k, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(cosmos::core::to_string(k), ctx);
    }
};
