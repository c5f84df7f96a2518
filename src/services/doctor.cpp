// `cosmos doctor`: the checks (doctor.hpp, docs/doctor.md).

#include "services/doctor.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "backends/remote_job.hpp"
#include "backends/ssh_target.hpp"
#include "core/units.hpp"
#include "model/checkpoint_manifest.hpp"
#include "model/family.hpp"
#include "scheduler/job.hpp"
#include "services/app.hpp"
#include "services/checkpoints.hpp"
#include "services/hf_token.hpp"
#include "services/host_status.hpp"
#include "store/database.hpp"
#include "transport/known_hosts.hpp"
#include "transport/ssh_shell.hpp"

namespace cosmos::services {

namespace fs = std::filesystem;
using core::ErrorCode;
using J = nlohmann::ordered_json;

std::string_view verdict_name(Verdict v) {
    switch (v) {
        case Verdict::ok:
            return "ok";
        case Verdict::warn:
            return "warn";
        case Verdict::fail:
            return "fail";
    }
    return "fail";
}

bool DoctorReport::ok() const {
    return first_failure() == nullptr;
}

const DoctorCheck* DoctorReport::first_failure() const {
    for (const auto& c : checks) {
        if (c.status == Verdict::fail) {
            return &c;
        }
    }
    return nullptr;
}

J doctor_json(const DoctorReport& report) {
    J checks = J::array();
    for (const auto& c : report.checks) {
        checks.push_back({{"scope", c.scope},
                          {"check", c.check},
                          {"status", verdict_name(c.status)},
                          {"detail", c.detail},
                          {"fix", c.fix.empty() ? J(nullptr) : J(c.fix)}});
    }
    return J{{"ok", report.ok()}, {"checks", checks}};
}

namespace {

struct Checks {
    DoctorReport& report;
    std::string scope;

    void ok(std::string check, std::string detail) {
        report.checks.push_back(
            {scope, std::move(check), Verdict::ok, std::move(detail), {}, ErrorCode::internal});
    }
    void warn(std::string check, std::string detail, std::string fix) {
        report.checks.push_back({scope,
                                 std::move(check),
                                 Verdict::warn,
                                 std::move(detail),
                                 std::move(fix),
                                 ErrorCode::internal});
    }
    void fail(std::string check, std::string detail, std::string fix, ErrorCode code) {
        report.checks.push_back(
            {scope, std::move(check), Verdict::fail, std::move(detail), std::move(fix), code});
    }
    void fail(std::string check, const core::Error& e, std::string fix_when_no_hint) {
        fail(std::move(check),
             e.message,
             e.hint.empty() ? std::move(fix_when_no_hint) : e.hint,
             e.code);
    }
};

// ---- configuration, database, token ----

void check_database(DoctorReport& report, const config::Config& cfg, std::optional<App>& app) {
    Checks c{report, "database"};
    fs::path path = database_path(cfg);
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        c.ok("integrity",
             fmt::format("no database yet at {} (the first command that needs one creates it)",
                         path.string()));
        // The host checks read running runs from a database: an empty one, in memory.
        if (auto db = store::Database::open(":memory:")) {
            app.emplace(App{cfg, std::move(*db)});
        }
        return;
    }
    // Read-only and as it is: doctor neither migrates nor repairs.
    auto db = store::Database::open_readonly(path);
    if (!db) {
        c.fail("integrity", db.error(), "check the file's permissions and the data dir");
        return;
    }
    auto problems = store::integrity_problems(*db, store::IntegrityCheck::quick);
    if (!problems) {
        c.fail("integrity", problems.error(), "check the file; restore it from a backup");
    } else if (problems->empty()) {
        c.ok("integrity", fmt::format("{}: PRAGMA quick_check ok", path.string()));
    } else {
        c.fail("integrity",
               fmt::format("{}: PRAGMA quick_check: {}", path.string(), fmt::join(*problems, "; ")),
               fmt::format("stop every cosmos process, keep a copy of {0}, then restore it "
                           "from a backup (or salvage it: sqlite3 {0} .recover | sqlite3 "
                           "recovered.db)",
                           path.string()),
               ErrorCode::io);
    }
    int version = db->schema_version();
    int current = store::current_schema_version();
    if (version > current) {
        c.fail("schema",
               fmt::format("schema version {} is newer than this build's {} (written by a newer "
                           "cosmos)",
                           version,
                           current),
               "upgrade cosmos to the version that wrote the database",
               ErrorCode::io);
    } else if (version < current) {
        c.warn("schema",
               fmt::format("schema version {}; this build's is {}", version, current),
               "any command that writes (e.g. `cosmos list runs`) migrates it; keep a copy of "
               "the file first if you may go back to the older cosmos");
    } else {
        c.ok("schema", fmt::format("schema version {} (current)", version));
    }
    app.emplace(App{cfg, std::move(*db)});
}

void check_token(DoctorReport& report, const config::Config& cfg) {
    Checks c{report, "huggingface"};
    if (!cfg.huggingface.token_file.empty()) {
        auto t = read_token_file(cfg.huggingface.token_file);
        if (t) {
            c.ok("token file", fmt::format("{} (private)", cfg.huggingface.token_file.string()));
        } else {
            c.fail("token file",
                   t.error(),
                   fmt::format("chmod 600 {}", cfg.huggingface.token_file.string()));
        }
    } else if (std::getenv("HF_TOKEN") != nullptr) {
        c.ok("token", "from $HF_TOKEN");
    } else {
        c.ok("token",
             "none set (only `cosmos setup checkpoints` needs one: [huggingface] token_file)");
    }
}

// ---- hosts ----

// One command on the host; its stdout's first line, or nullopt when it failed.
std::optional<std::string> first_line(const backends::RemoteHost& host,
                                      const std::vector<std::string>& argv) {
    auto r = host.shell->run(argv, transport::CommandOptions{{}, std::chrono::seconds(30)});
    if (!r || r->exit_code != 0) {
        return std::nullopt;
    }
    std::string out = r->out.substr(0, r->out.find('\n'));
    return out;
}

// Host key: the key the host offers against known_hosts (transport::plan_trust, as `cosmos
// hosts trust` sees it). False when nothing else can be checked (unreachable, not trusted).
bool check_host_key(Checks& c, const config::HostConfig& h) {
    auto target = backends::ssh_target_for(h);
    auto key = transport::fetch_host_key(target);
    if (!key) {
        c.fail("reachable",
               key.error(),
               fmt::format("check that the host is up and that address and port in [hosts.{}] "
                           "are right",
                           h.name));
        return false;
    }
    auto file = transport::known_hosts_path(target).string();
    auto plan = transport::plan_trust(target, *key);
    if (!plan) {
        c.fail("host key", plan.error(), fmt::format("check {}", file));
        return false;
    }
    using State = transport::TrustPlan::State;
    switch (plan->state) {
        case State::trusted:
            c.ok("host key", fmt::format("{} {} trusted in {}", key->type, key->fingerprint, file));
            return true;
        case State::unknown:
            c.fail("host key",
                   fmt::format("the host offers an unknown {} key {} (not in {}): every "
                               "connection is refused",
                               key->type,
                               key->fingerprint,
                               file),
                   fmt::format("check the fingerprint, then run: cosmos hosts trust {}", h.name),
                   ErrorCode::auth_failed);
            return false;
        case State::changed: {
            std::string old;
            for (const auto& k : plan->old_keys) {
                old += fmt::format(
                    "{}{} {} (line {})", old.empty() ? "" : ", ", k.type, k.fingerprint, k.line);
            }
            c.fail("host key",
                   fmt::format("the host key CHANGED: the host offers {} {}, but {} records {} "
                               "(reinstalled host, or someone intercepting)",
                               key->type,
                               key->fingerprint,
                               file,
                               old),
                   fmt::format("confirm the new fingerprint with the host's administrator, then "
                               "run: cosmos hosts trust {} --replace",
                               h.name),
                   ErrorCode::auth_failed);
            return false;
        }
        case State::revoked:
            c.fail("host key",
                   fmt::format("the host offers the {} key {}, which line {} of {} marks "
                               "@revoked",
                               key->type,
                               key->fingerprint,
                               plan->revoked_line,
                               file),
                   "ask the host's administrator for its new key",
                   ErrorCode::auth_failed);
            return false;
    }
    return false;
}

// The checkout's version: the emulator's .emulator/VERSION, else `git describe`.
std::optional<std::string> checkout_version(const backends::RemoteHost& host,
                                            const std::string& dir) {
    return first_line(
        host,
        {"sh",
         "-c",
         "cd \"$1\" 2>/dev/null || exit 3; "
         "if [ -f .emulator/VERSION ]; then head -n 1 .emulator/VERSION; "
         "elif command -v git >/dev/null 2>&1 && git rev-parse --git-dir >/dev/null 2>&1; "
         "then git describe --tags --always --dirty 2>/dev/null || echo 'git checkout'; "
         "else echo 'unknown (not a git checkout)'; fi",
         "cosmos-version",
         dir});
}

void check_runtime(Checks& c, const backends::RemoteHost& host) {
    const auto& h = host.config;
    if (h.runtime == core::RuntimeKind::docker) {
        const std::string& docker = h.container.docker;
        auto version = first_line(host, {docker, "version", "--format", "{{.Server.Version}}"});
        if (!version) {
            c.fail(
                "container runtime",
                fmt::format("`{} version` found no running {} daemon on the host", docker, docker),
                fmt::format("install {0} on the host and start it (systemctl start {0}); the "
                            "host's user must be allowed to use it",
                            docker),
                ErrorCode::not_found);
            return;
        }
        c.ok("container runtime", fmt::format("{} {}", docker, *version));
        auto runtimes = first_line(host, {docker, "info", "--format", "{{json .Runtimes}}"});
        bool toolkit = runtimes && runtimes->find("nvidia") != std::string::npos;
        if (!toolkit) {
            toolkit =
                first_line(host,
                           {"sh", "-c", "command -v nvidia-ctk || command -v nvidia-container-cli"})
                    .has_value();
        }
        if (toolkit) {
            c.ok("nvidia container toolkit", "installed");
        } else {
            c.fail("nvidia container toolkit",
                   fmt::format("neither an nvidia runtime in `{} info` nor nvidia-ctk on the host: "
                               "containers would see no GPU",
                               docker),
                   "install the NVIDIA Container Toolkit (nvidia-container-toolkit) and run "
                   "`sudo nvidia-ctk runtime configure --runtime=docker`, then restart docker",
                   ErrorCode::not_found);
        }
        return;
    }
    if (h.runtime == core::RuntimeKind::apptainer) {
        if (auto v = first_line(host, {"apptainer", "--version"})) {
            c.ok("container runtime", *v);
        } else {
            c.fail("container runtime",
                   "apptainer is not on the host's PATH",
                   "install apptainer on the host",
                   ErrorCode::not_found);
        }
        return;
    }
    // native: the launcher was checked with the checkout; the Python it runs.
    auto path = h.env.find("PATH");
    auto python = first_line(host,
                             {"sh",
                              "-c",
                              "if [ -n \"$1\" ]; then PATH=$1; export PATH; fi; "
                              "python3 -c 'import sys; print(sys.version.split()[0])'",
                              "cosmos-python",
                              path == h.env.end() ? std::string() : path->second});
    if (python) {
        c.ok("python", fmt::format("python3 {} (launcher {})", *python, host.torchrun));
    } else {
        c.warn("python",
               "no python3 on the host's PATH (the model and its download script need one)",
               fmt::format("install the model's Python environment on the host, or give the host "
                           "its PATH (env PATH=... in [hosts.{}])",
                           h.name));
    }
}

void check_checkpoints(Checks& c, const App& app, const backends::RemoteHost& host) {
    const auto& h = host.config;
    CheckpointTarget target{h, {}};
    auto verified = verify_checkpoints(app, target, "", 0);
    std::string verify_fix = fmt::format(
        "restore the files (cosmos setup checkpoints --host {0}), then check them: cosmos "
        "checkpoints verify --host {0}",
        h.name);
    if (verified) {
        const auto& d = verified->diff;
        if (verified->ok()) {
            c.ok(
                "checkpoints",
                fmt::format("{} file(s) in {} match the manifest", d.matched, host.checkpoint_dir));
            return;
        }
        std::vector<std::string> lines = model::describe_diff(d);
        std::string detail =
            fmt::format("{} does not match the manifest ({} missing, {} changed, {} extra)",
                        host.checkpoint_dir,
                        d.missing.size(),
                        d.changed.size(),
                        d.extra.size());
        for (std::size_t i = 0; i < lines.size() && i < 5; ++i) {
            detail += "; " + lines[i];
        }
        c.fail("checkpoints", detail, verify_fix, ErrorCode::conflict);
        return;
    }
    if (verified.error().code != ErrorCode::not_found) {
        c.fail("checkpoints", verified.error(), verify_fix);
        return;
    }
    // No manifest for the host: the files the model contract lists must be there.
    auto listing =
        host.shell->run({"sh",
                         "-c",
                         "cd -- \"$1\" 2>/dev/null || exit 3; find -L . -type f -printf '%P\\n'",
                         "sh",
                         host.checkpoint_dir},
                        transport::CommandOptions{{}, std::chrono::seconds(60)});
    if (!listing) {
        c.fail("checkpoints", listing.error(), verify_fix);
        return;
    }
    if (listing->exit_code == 3) {
        c.fail("checkpoints",
               fmt::format("no checkpoint dir {}", host.checkpoint_dir),
               fmt::format("download them: cosmos setup checkpoints --host {}", h.name),
               ErrorCode::not_found);
        return;
    }
    std::set<std::string> have;
    std::size_t start = 0;
    const std::string& out = listing->out;
    while (start < out.size()) {
        auto end = out.find('\n', start);
        end = end == std::string::npos ? out.size() : end;
        have.insert(out.substr(start, end - start));
        start = end + 1;
    }
    std::vector<std::string> missing;
    for (const auto& path : model::reference_md5_paths()) {
        bool base = path.rfind("nvidia/Cosmos-Transfer1-7B/", 0) == 0;
        bool tokenizer = path.rfind("nvidia/Cosmos-Tokenize1-CV8x8x8-720p/", 0) == 0;
        if ((base || tokenizer) && have.count(path) == 0) {
            missing.push_back(path);
        }
    }
    if (!missing.empty()) {
        std::string detail = fmt::format("{} of the model's checkpoint files missing in {}:",
                                         missing.size(),
                                         host.checkpoint_dir);
        for (std::size_t i = 0; i < missing.size() && i < 5; ++i) {
            detail += (i == 0 ? " " : ", ") + missing[i];
        }
        c.fail("checkpoints",
               detail,
               fmt::format("download them: cosmos setup checkpoints --host {}", h.name),
               ErrorCode::not_found);
        return;
    }
    c.warn("checkpoints",
           fmt::format("{} file(s) in {}, the model's files present, but never verified against a "
                       "manifest",
                       have.size(),
                       host.checkpoint_dir),
           fmt::format("write a manifest once (cosmos checkpoints manifest --host {0} -o "
                       "checkpoints.json) and keep it in version control; `cosmos checkpoints "
                       "verify --host {0}` then checks every file",
                       h.name));
}

std::optional<std::uint64_t> local_free_bytes(fs::path dir) {
    std::error_code ec;
    while (!dir.empty() && !fs::is_directory(dir, ec)) {
        if (dir == dir.parent_path()) {
            return std::nullopt;
        }
        dir = dir.parent_path();
    }
    auto space = fs::space(dir.empty() ? fs::path(".") : dir, ec);
    if (ec) {
        return std::nullopt;
    }
    return space.available;
}

void check_disk(Checks& c,
                const DoctorOptions& o,
                const backends::RemoteHost& host,
                const J& status) {
    std::optional<std::uint64_t> free;
    if (status.contains("free_bytes") && status["free_bytes"].is_number()) {
        free = status["free_bytes"].get<std::uint64_t>();
    } else if (host.config.kind == core::HostKind::local) {
        free = local_free_bytes(host.work_dir);
    }
    if (!free) {
        c.warn("disk",
               fmt::format("could not measure the free space of {}", host.work_dir),
               "check that df works on the host");
        return;
    }
    std::string detail =
        fmt::format("{} free in {}", core::human_bytes(static_cast<double>(*free)), host.work_dir);
    std::string fix =
        host.config.kind == core::HostKind::local
            ? fmt::format("free space there, or point work_dir in [hosts.{}] at a larger disk",
                          host.config.name)
            : fmt::format(
                  "free space there (cosmos hosts clean {0} removes old job dirs and "
                  "cache entries), or point work_dir in [hosts.{0}] at a larger disk",
                  host.config.name);
    if (*free < o.disk_fail_bytes) {
        c.fail("disk",
               detail + fmt::format(" (under {}: a job could not even write its log)",
                                    core::human_bytes(static_cast<double>(o.disk_fail_bytes))),
               fix,
               ErrorCode::io);
    } else if (*free < o.disk_warn_bytes) {
        c.warn("disk",
               detail + fmt::format(" (under {}; a run's inputs and outputs can take more)",
                                    core::human_bytes(static_cast<double>(o.disk_warn_bytes))),
               fix);
    } else {
        c.ok("disk", detail);
    }
}

void check_clock(Checks& c, const DoctorOptions& o, const backends::RemoteHost& host) {
    using Clock = std::chrono::system_clock;
    auto before = Clock::now();
    auto remote = first_line(host, {"date", "+%s"});
    auto after = Clock::now();
    if (!remote) {
        c.warn("clock", "`date +%s` failed on the host", "check the host's `date`");
        return;
    }
    double here =
        std::chrono::duration<double>((before + (after - before) / 2).time_since_epoch()).count();
    char* end = nullptr;
    double there = std::strtod(remote->c_str(), &end);
    if (end == remote->c_str()) {
        c.warn("clock", fmt::format("`date +%s` printed {}", *remote), "check the host's `date`");
        return;
    }
    double skew = there - here;  // 1 s resolution: date prints whole seconds
    std::string detail = fmt::format("the host's clock is {:+.0f} s from this machine's", skew);
    if (std::abs(skew) > o.clock_skew_warn_s + 1) {
        c.warn("clock",
               detail,
               "turn on time sync on the host (timedatectl set-ntp true, or chrony): run times, "
               "cache stamps and idle timers compare the two clocks");
    } else {
        c.ok("clock", detail);
    }
}

void check_host(DoctorReport& report,
                const DoctorOptions& o,
                const App& app,
                const config::HostConfig& h) {
    Checks c{report, "host " + h.name};
    bool remote_login = h.kind == core::HostKind::ssh ||
                        (h.kind == core::HostKind::slurm && !h.ssh.address.empty());
    if (remote_login && !check_host_key(c, h)) {
        return;
    }
    J status = host_status_json(app, h);
    bool reachable = status.value("reachable", false);
    std::string error = status["error"].is_string() ? status["error"].get<std::string>() : "";
    if (!reachable) {
        c.fail("reachable",
               error.empty() ? std::string("the host does not answer") : error,
               fmt::format("check that the host is up and reachable from here (cosmos status {})",
                           h.name),
               ErrorCode::host_unreachable);
        return;
    }
    c.ok("reachable",
         fmt::format("{} ({:.0f} ms)",
                     status.value("address", std::string()),
                     status.value("latency_ms", 0.0)));
    if (h.kind == core::HostKind::http) {
        return;  // a served model: its server answers; nothing of the machine is visible
    }
    if (h.kind == core::HostKind::slurm) {
        c.ok("slurm",
             fmt::format("partition {}: {} of {} GPU(s) free",
                         h.slurm.partition,
                         status.value("gpus_free", 0),
                         status.value("gpus_total", 0)));
        return;  // jobs run on compute nodes: the login node's files say nothing of them
    }
    auto host = scheduler::open_host(h);
    if (!host) {
        c.fail("checkout", host.error(), "check the host's settings: cosmos hosts show " + h.name);
        return;
    }
    // The model's checkout and launcher, as a run checks them before staging.
    bool emulated = false;
    std::vector<model::Family> families{model::Family::transfer1};
    for (const auto& [family, dir] : h.checkouts) {
        if (family != model::Family::transfer1) {
            families.push_back(family);
        }
    }
    for (auto family : families) {
        const auto& mf = model::model_family(family);
        std::string check = families.size() == 1 ? std::string("checkout")
                                                 : fmt::format("checkout ({})", mf.display_name());
        if (auto ready = backends::check_host_ready(*host, mf); !ready) {
            if (h.emulated && family == model::Family::transfer1) {
                // The built-in host: its emulator is laid out by the first run.
                c.warn(check,
                       fmt::format("the built-in emulator is not laid out in {} yet",
                                   host->cosmos_dir),
                       "the first run installs it (`cosmos demo` runs one now); then run "
                       "cosmos doctor again");
                return;
            }
            c.fail(check, ready.error(), "");
            continue;
        }
        auto version = checkout_version(*host, host->checkout(family));
        emulated = emulated || (version && version->rfind("cosmos-emulator", 0) == 0);
        c.ok(check,
             fmt::format("{} (version: {}){}",
                         host->checkout(family),
                         version.value_or("unknown"),
                         h.runtime == core::RuntimeKind::native
                             ? fmt::format("; launcher {} runs", host->torchrun)
                             : std::string()));
    }
    // The GPU driver: nvidia-smi (the emulator's bin/nvidia-smi on an emulated checkout).
    const J& gpus = status["gpus"];
    if (gpus.is_array() && !gpus.empty()) {
        std::map<std::string, int> models;  // "2 x NVIDIA H100", not the name twice
        for (const auto& g : gpus) {
            ++models[g.value("name", std::string("?"))];
        }
        std::string names;
        for (const auto& [name, n] : models) {
            names += fmt::format("{}{} x {}", names.empty() ? "" : ", ", n, name);
        }
        std::string detail = fmt::format("nvidia-smi lists {} GPU(s): {}", gpus.size(), names);
        if (static_cast<int>(gpus.size()) < h.gpus) {
            c.warn("gpu driver",
                   detail,
                   fmt::format(
                       "[hosts.{}] says gpus = {}: set it to what the host has", h.name, h.gpus));
        } else {
            c.ok("gpu driver", detail);
        }
    } else {
        std::string gpu_error =
            status["gpu_error"].is_string() ? status["gpu_error"].get<std::string>() : "";
        c.fail(
            "gpu driver",
            gpu_error.empty() ? std::string("nvidia-smi lists no GPU") : "nvidia-smi: " + gpu_error,
            emulated ? fmt::format("the emulated checkout lost its bin/nvidia-smi: lay it out "
                                   "again with `cosmos emulator install {}`",
                                   host->cosmos_dir)
                     : std::string("install the NVIDIA driver on the host (nvidia-smi must run "
                                   "there and list the GPUs)"),
            ErrorCode::not_found);
    }
    check_runtime(c, *host);
    check_checkpoints(c, app, *host);
    check_disk(c, o, *host, status);
    if (h.kind == core::HostKind::ssh) {
        check_clock(c, o, *host);
    }
}

}  // namespace

core::Result<DoctorReport> run_doctor(const DoctorOptions& options) {
    DoctorReport report;
    Checks c{report, "config"};
    auto cfg = config::load_config(options.load);
    if (!cfg) {
        c.fail("config", cfg.error(), "fix the file, then check it again: cosmos config check");
        return report;
    }
    c.ok("config",
         fmt::format("{} ({} host(s), data in {})",
                     cfg->source.empty() ? std::string("embedded defaults") : cfg->source.string(),
                     cfg->hosts.size(),
                     cfg->paths.data_dir.string()));
    std::error_code ec;
    if (fs::exists(cfg->hosts_file, ec)) {
        std::size_t managed = 0;
        for (const auto& [name, h] : cfg->hosts) {
            managed += h.managed ? 1 : 0;
        }
        c.ok("hosts file", fmt::format("{} ({} host(s))", cfg->hosts_file.string(), managed));
    }
    for (const auto& e : config::unpinned_images(*cfg)) {
        c.warn("images", e.message, e.hint);
    }
    std::vector<config::HostConfig> hosts;
    if (!options.host.empty()) {
        COSMOS_TRY(auto h, config::find_host(*cfg, options.host));
        hosts.push_back(std::move(h));
    } else {
        for (const auto& [name, h] : cfg->hosts) {
            hosts.push_back(h);
        }
    }
    std::optional<App> app;
    check_database(report, *cfg, app);
    check_token(report, *cfg);
    if (!app) {
        return report;  // the database could not be opened (reported above)
    }
    for (const auto& h : hosts) {
        check_host(report, options, *app, h);
    }
    return report;
}

}  // namespace cosmos::services
