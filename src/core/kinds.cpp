#include "core/kinds.hpp"

#include <array>
#include <utility>

namespace cosmos::core {

namespace {

constexpr std::array<std::pair<HostKind, std::string_view>, 4> k_hosts{{{HostKind::local, "local"},
                                                                        {HostKind::ssh, "ssh"},
                                                                        {HostKind::slurm, "slurm"},
                                                                        {HostKind::http, "http"}}};
constexpr std::array<std::pair<RuntimeKind, std::string_view>, 3> k_runtimes{
    {{RuntimeKind::native, "native"},
     {RuntimeKind::docker, "docker"},
     {RuntimeKind::apptainer, "apptainer"}}};
constexpr std::array<std::pair<RunKind, std::string_view>, 3> k_runs{
    {{RunKind::transfer, "transfer"},
     {RunKind::upscale, "upscale"},
     {RunKind::enhance, "enhance"}}};

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E kind) {
    for (const auto& [k, name] : table) {
        if (k == kind) {
            return name;
        }
    }
    return "?";
}

template <class E, std::size_t N>
std::optional<E> kind_of(const std::array<std::pair<E, std::string_view>, N>& table,
                         std::string_view name) {
    for (const auto& [k, n] : table) {
        if (n == name) {
            return k;
        }
    }
    return std::nullopt;
}

}  // namespace

std::string_view to_string(HostKind kind) {
    return name_of(k_hosts, kind);
}
std::string_view to_string(RuntimeKind kind) {
    return name_of(k_runtimes, kind);
}
std::string_view to_string(RunKind kind) {
    return name_of(k_runs, kind);
}

std::optional<HostKind> parse_host_kind(std::string_view name) {
    return kind_of(k_hosts, name);
}
std::optional<RuntimeKind> parse_runtime_kind(std::string_view name) {
    return kind_of(k_runtimes, name);
}
std::optional<RunKind> parse_run_kind(std::string_view name) {
    return kind_of(k_runs, name);
}

}  // namespace cosmos::core
