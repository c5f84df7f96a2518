#include "core/ids.hpp"

#include <random>

#include <fmt/format.h>

namespace cosmos::core {

std::string_view id_prefix(IdKind kind) {
    switch (kind) {
        case IdKind::prompt:
            return "ps_";
        case IdKind::run:
            return "rs_";
        case IdKind::job:
            return "job_";
        case IdKind::batch:
            return "bat_";
        case IdKind::sweep:
            return "sw_";
    }
    return "";
}

std::string new_id(IdKind kind) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return fmt::format("{}{:016x}", id_prefix(kind), rng());
}

bool is_valid_id(IdKind kind, std::string_view id) {
    auto prefix = id_prefix(kind);
    if (id.size() <= prefix.size() || id.size() > prefix.size() + 64 ||
        id.substr(0, prefix.size()) != prefix) {
        return false;
    }
    for (char c : id.substr(prefix.size())) {
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool id_kind_of(std::string_view id, IdKind& kind) {
    for (IdKind k : {IdKind::prompt, IdKind::run, IdKind::job, IdKind::batch}) {
        if (id.substr(0, id_prefix(k).size()) == id_prefix(k)) {
            kind = k;
            return true;
        }
    }
    return false;
}

}  // namespace cosmos::core
