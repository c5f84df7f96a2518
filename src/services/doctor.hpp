#pragma once
// `cosmos doctor`: one pass over what a run needs, each check with a verdict (ok / warn / fail),
// what was seen and, for a problem, the fix. It reuses the probes the rest of the program runs
// (host_status_json, backends::check_host_ready, the checkpoint verifier, the token file and
// known_hosts readers) and changes nothing but the checkpoint verifier's own state file.
// See docs/doctor.md.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "core/error.hpp"
#include "core/result.hpp"

namespace cosmos::services {

enum class Verdict { ok, warn, fail };
std::string_view verdict_name(Verdict v);

struct DoctorCheck {
    std::string scope;  // "config", "database", "huggingface" or "host NAME"
    std::string check;  // "reachable", "host key", "gpu driver", ...
    Verdict status = Verdict::ok;
    std::string detail;  // what was seen
    std::string fix;     // what to do (warn, fail); empty when ok
    // For a failure: the error class it is (the exit code of `cosmos doctor` is the first
    // failure's, docs/errors.md).
    core::ErrorCode code = core::ErrorCode::internal;
};

struct DoctorOptions {
    config::LoadOptions load;                     // how to find the configuration
    std::string host;                             // only this host (empty: every host)
    std::uint64_t disk_warn_bytes = 10ull << 30;  // warn with less free in a work dir
    std::uint64_t disk_fail_bytes = 64ull << 20;  // fail: a job could not even write its log
    int clock_skew_warn_s = 5;
};

struct DoctorReport {
    std::vector<DoctorCheck> checks;
    bool ok() const;  // no check failed
    const DoctorCheck* first_failure() const;
};

// Runs every check. Fails only when `options.host` names no configured host (not_found);
// everything else is a check's verdict.
core::Result<DoctorReport> run_doctor(const DoctorOptions& options);

// {"ok": bool, "checks": [{"scope", "check", "status", "detail", "fix"}]} (fix null when none).
nlohmann::ordered_json doctor_json(const DoctorReport& report);

}  // namespace cosmos::services
