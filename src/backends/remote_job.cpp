#include "backends/remote_job.hpp"

#include <charconv>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "backends/model_launch.hpp"
#include "backends/slurm_runtime.hpp"
#include "core/failpoint.hpp"
#include "core/file_lock.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/temp_name.hpp"
#include "model/family.hpp"
#include "model/model_log.hpp"
#include "transport/staging.hpp"

namespace cosmos::backends {

using core::ErrorCode;
using core::fail;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Resolves `~`, `~/x` and relative paths against the login directory, as SFTP and the login
// shell would; absolute paths are kept.
std::string resolve_remote(const std::string& path, const std::string& home) {
    if (path.empty()) {
        return path;
    }
    if (path == "~") {
        return home;
    }
    if (path.rfind("~/", 0) == 0) {
        return home + path.substr(1);
    }
    if (path.front() != '/') {
        return home + "/" + path;
    }
    return path;
}

// True when a configured path must be resolved against the login's home ($HOME is asked once).
bool needs_home(const config::HostConfig& h) {
    auto relative = [](const std::string& p) { return p.empty() || p.front() != '/'; };
    bool torchrun_path = h.torchrun.find('/') != std::string::npos;
    return relative(h.work_dir.string()) || relative(h.cosmos_dir.string()) ||
           (!h.checkpoint_dir.empty() && relative(h.checkpoint_dir.string())) ||
           (torchrun_path && relative(h.torchrun));
}

// Replaces every string in `j` equal to a key of `paths` by its value.
void rewrite_paths(nlohmann::ordered_json& j, const std::map<std::string, std::string>& paths) {
    if (j.is_string()) {
        if (auto it = paths.find(j.get<std::string>()); it != paths.end()) {
            j = it->second;
        }
    } else if (j.is_structured()) {
        for (auto& v : j) {
            rewrite_paths(v, paths);
        }
    }
}

core::Status require_ok(const transport::CommandResult& r,
                        const std::string& what,
                        const RemoteHost& host) {
    if (r.exit_code == 0) {
        return {};
    }
    std::string err = r.err.empty() ? r.out : r.err;
    while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) {
        err.pop_back();
    }
    return fail(ErrorCode::remote_failed,
                fmt::format("{} on host {} failed (exit {}): {}",
                            what,
                            host.config.name,
                            r.exit_code,
                            core::redact(err.substr(0, 2000))));
}

// Resolves the host's directories and launcher against `home` (relative paths and `~`) and
// fills its runtime options: everything of a RemoteHost that needs no connection.
void resolve_layout(RemoteHost& host, const std::string& home) {
    const config::HostConfig& cfg = host.config;
    host.work_dir =
        resolve_remote(cfg.work_dir.empty() ? "cosmos-work" : cfg.work_dir.string(), home);
    host.cosmos_dir =
        resolve_remote(cfg.cosmos_dir.empty() ? "cosmos-transfer1" : cfg.cosmos_dir.string(), home);
    for (const auto& [family, path] : cfg.checkouts) {
        host.checkouts[family] = resolve_remote(path.string(), home);
    }
    host.checkpoint_dir = cfg.checkpoint_dir.empty()
                              ? host.cosmos_dir + "/checkpoints"
                              : resolve_remote(cfg.checkpoint_dir.string(), home);
    // A bare command name ("torchrun") is looked up in PATH on the host; a path is resolved.
    host.torchrun = cfg.torchrun.find('/') == std::string::npos
                        ? cfg.torchrun
                        : resolve_remote(cfg.torchrun, home);
    runtime::RuntimeOptions options;
    options.kind = cfg.runtime;
    options.docker = cfg.container.docker;
    options.image = cfg.container.image;
    options.gpus_flag = cfg.container.docker_gpus;
    options.shm_size = cfg.container.shm_size;
    options.extra_docker_args = cfg.container.docker_args;
    options.cosmos_dir = host.cosmos_dir;
    host.runtime_options = std::move(options);
}

}  // namespace

namespace {
HostSeams& seams_storage() {
    static HostSeams seams;
    return seams;
}
}  // namespace

HostSeams set_host_seams(HostSeams seams) {
    std::swap(seams_storage(), seams);
    return seams;
}

const HostSeams& host_seams() {
    return seams_storage();
}

RemoteHost describe_remote_host(const config::HostConfig& cfg) {
    RemoteHost host;
    host.config = cfg;
    resolve_layout(host, "~");
    host.scheduler_binds_gpus = cfg.kind == core::HostKind::slurm;
    return host;
}

core::Result<RemoteHost> open_remote_host(const config::HostConfig& cfg,
                                          std::shared_ptr<transport::Shell> shell) {
    RemoteHost host;
    host.config = cfg;
    host.shell = std::move(shell);
    std::string home;
    if (needs_home(cfg)) {
        COSMOS_TRY(auto r, host.shell->run({"sh", "-c", "printf '%s' \"$HOME\""}));
        if (auto s = require_ok(r, "reading $HOME", host); !s) {
            return fail(s.error());
        }
        home = r.out;
        if (home.empty() || home.front() != '/') {
            return fail(ErrorCode::remote_failed,
                        fmt::format("host {}: $HOME is not an absolute path", cfg.name));
        }
    }
    resolve_layout(host, home);
    if (cfg.kind == core::HostKind::slurm) {
        // The model runs as the body of a Slurm batch job (natively or in a container), on a
        // compute node whose GPUs Slurm binds; jobs submitted at once share one job array.
        host.runtime = make_slurm_runtime(slurm_settings(host));
        host.scheduler_binds_gpus = true;
        host.submit = [](const RemoteHost& h, const runtime::LaunchRequest& r) {
            return submit_slurm_job(h, r);
        };
    } else {
        COSMOS_TRY(auto rt, runtime::make_runtime(host.runtime_options));
        host.runtime = std::move(rt);
    }
    if (host_seams().runtime) {
        host.runtime = host_seams().runtime(host);
    }
    return host;
}

core::Status check_host_ready(const RemoteHost& host, const model::ModelFamily& family) {
    if (host.scheduler_binds_gpus) {
        // The job runs on a compute node: the login node's files say nothing; only reach it.
        COSMOS_TRY(auto r, host.shell->run({"true"}));
        return require_ok(r, "reaching the login node", host);
    }
    // One round trip; the script is constant, the paths and PATH are its arguments. The
    // launcher is looked up as the model's own process will: with the host's PATH when its env
    // sets one. In a container the launcher is the image's, so only the checkout is checked.
    bool native = host.runtime_options.kind == core::RuntimeKind::native;
    auto path = host.config.env.find("PATH");
    std::vector<std::string> argv{"sh",
                                  "-c",
                                  "[ -f \"$1\" ] || exit 3; [ -n \"$2\" ] || exit 0; "
                                  "if [ -n \"$3\" ]; then PATH=$3; export PATH; fi; "
                                  "command -v \"$2\" >/dev/null 2>&1 || exit 4; "
                                  "case $2 in */*) [ -x \"$2\" ] || exit 4;; esac",
                                  "cosmos-ready",
                                  host.checkout(family.family()) + "/" + family.entry_point(),
                                  native ? host.torchrun : std::string(),
                                  path == host.config.env.end() ? std::string() : path->second};
    COSMOS_TRY(auto r, host.shell->run(argv));
    if (r.exit_code == 3) {
        bool own = host.checkouts.count(family.family()) != 0;
        return fail(ErrorCode::not_found,
                    fmt::format("host {}: no {} under {} {} ({} checkout)",
                                host.config.name,
                                family.entry_point(),
                                own ? "its checkout" : "cosmos_dir",
                                host.checkout(family.family()),
                                family.display_name()),
                    fmt::format("point the host at a {0} checkout (cosmos_dir = \"DIR\", or "
                                "\"{1}\" = \"DIR\" under [hosts.{2}.checkouts]), or lay out the "
                                "emulator there with `cosmos emulator install DIR`",
                                family.display_name(),
                                model::to_string(family.family()),
                                host.config.name));
    }
    if (r.exit_code == 0) {
        return {};
    }
    if (r.exit_code != 4) {
        return fail(ErrorCode::remote_failed,
                    fmt::format("host {}: checking its checkout and launcher failed (exit {}): {}",
                                host.config.name,
                                r.exit_code,
                                r.err));
    }
    bool is_path = host.torchrun.find('/') != std::string::npos;
    return fail(ErrorCode::not_found,
                is_path ? fmt::format("host {}: the launcher {} does not exist or is not "
                                      "executable (the model would exit with code 127)",
                                      host.config.name,
                                      host.torchrun)
                        : fmt::format("host {}: `{}` is not on the PATH of its shell (the model "
                                      "would exit with code 127)",
                                      host.config.name,
                                      host.torchrun),
                fmt::format("set the host's launcher to its full path (torchrun = \"/path/to/"
                            "torchrun\" in [hosts.{0}], or `cosmos hosts add {0} --torchrun "
                            "PATH`), or give the host a PATH that has it (env PATH=...)",
                            host.config.name));
}

runtime::LaunchRequest job_request(const RemoteHost& host, const std::string& run_id) {
    runtime::LaunchRequest request;
    request.job_id = run_id;
    request.job_dir = host.job_dir(run_id);
    request.checkpoint_dir = host.checkpoint_dir;
    return request;
}

model::LaunchCommand job_command(const RemoteHost& host,
                                 const RemoteJobSpec& job,
                                 const nlohmann::ordered_json& spec,
                                 bool batch) {
    // In a container the checkout is mounted at /workspace and the launcher is the image's; the
    // job and checkpoint dirs keep their host paths (docs/runtimes.md).
    bool in_container = host.runtime_options.kind != core::RuntimeKind::native;
    model::HostLayout layout{in_container ? host.config.torchrun : host.torchrun,
                             in_container ? std::string("/workspace") : host.checkout(job.family),
                             host.checkpoint_dir,
                             host.job_dir(job.run_id)};
    model::JobShape shape;
    shape.kind = job.kind;
    shape.params = job.params;
    shape.num_steps = job.num_steps;
    // Where a scheduler binds the job's GPUs (Slurm), the queue's slot ids are not GPU ids.
    if (!host.scheduler_binds_gpus) {
        shape.gpu_ids = job.gpu_ids;
    }
    shape.batch = batch;
    auto command = model::model_family(job.family).command(layout, shape, spec);
    for (const auto& [k, v] : host.config.env) {
        if (!core::is_secret_name(k)) {
            command.env[k] = v;  // secrets travel in the runtime's 0600 file, never here
        }
    }
    return command;
}

int job_gpus(const RemoteHost& host, const RemoteJobSpec& job) {
    if (job.kind == core::RunKind::enhance) {
        return 1;
    }
    bool ids = !host.scheduler_binds_gpus && !job.gpu_ids.empty();
    return ids ? static_cast<int>(job.gpu_ids.size()) : job.params.num_gpus;
}

namespace {

// The inputs of a job once in the host's cache: where each local file is in the job dir, and
// the (cached file, job dir path) pairs to link.
struct StagedInputs {
    std::map<std::string, std::string> remote_paths;  // local path -> job dir path
    std::vector<std::string> links;                   // cached file, job dir path, ...
    std::uint64_t uploaded_bytes = 0;
};

// Sends every input once into the host's content-addressed cache (a name used twice in the
// job gets a _2, _3... suffix in inputs/).
core::Result<StagedInputs> stage_inputs(const RemoteHost& host,
                                        const RemoteJobSpec& job,
                                        const std::string& job_dir,
                                        const StageProgressFn& progress) {
    StagedInputs out;
    std::set<std::string> used_names;
    for (const auto& local : job.inputs) {
        std::string name = local.filename().string();
        for (int i = 2; used_names.count(name) != 0; ++i) {
            name = fmt::format("{}_{}{}", local.stem().string(), i, local.extension().string());
        }
        used_names.insert(name);
        transport::ProgressFn on_progress;
        if (progress) {
            on_progress = [&progress, name](const transport::TransferProgress& p) {
                progress(name, p.done, p.total);
            };
        }
        COSMOS_TRY(auto file,
                   transport::stage_file(*host.shell, local, host.cache_dir(), on_progress));
        out.uploaded_bytes += file.uploaded_bytes;
        core::failpoint("stage");
        std::string dst = job_dir + "/inputs/" + name;
        out.links.push_back(file.remote_path);
        out.links.push_back(dst);
        out.remote_paths[local.string()] = dst;
    }
    return out;
}

// Links the cached files into the job dir, so the job dir holds everything the model reads
// (containers mount only the job dir); copies where hard links are not possible. One command
// for all of them: each remote command costs a round trip and a session. The script is
// constant; the paths arrive as its arguments, in pairs.
core::Status link_inputs(const RemoteHost& host, const std::vector<std::string>& links) {
    if (links.empty()) {
        return {};
    }
    std::vector<std::string> argv{
        "sh",
        "-c",
        "while [ $# -ge 2 ]; do ln -f \"$1\" \"$2\" 2>/dev/null || cp -f \"$1\" \"$2\" "
        "|| exit 1; shift 2; done",
        "cosmos-link"};
    argv.insert(argv.end(), links.begin(), links.end());
    COSMOS_TRY(auto ln, host.shell->run(argv));
    return require_ok(ln, "linking staged inputs into the job dir", host);
}

// Writes spec.json (and batch.jsonl for a batch) with the job dir's paths into `staged`;
// returns the batch file's path, if any.
core::Result<std::optional<std::string>> write_spec_files(
    const RemoteHost& host,
    const RemoteJobSpec& job,
    const std::map<std::string, std::string>& remote_paths,
    StagedJob& staged) {
    const std::string& job_dir = staged.request.job_dir;
    staged.remote_spec = job.spec;
    rewrite_paths(staged.remote_spec, remote_paths);
    COSMOS_CHECK(host.shell->write_file(job_dir + "/spec.json", staged.remote_spec.dump(2) + "\n"));
    if (job.batch_lines.empty()) {
        return std::optional<std::string>();
    }
    std::string lines;
    for (auto line : job.batch_lines) {
        rewrite_paths(line, remote_paths);
        lines += line.dump() + "\n";
        staged.remote_batch_lines.push_back(std::move(line));
    }
    std::string batch_path = job_dir + "/batch.jsonl";
    COSMOS_CHECK(host.shell->write_file(batch_path, lines));
    return std::optional<std::string>(batch_path);
}

}  // namespace

core::Result<StagedJob> stage_job(const RemoteHost& host,
                                  const RemoteJobSpec& job,
                                  const StageProgressFn& progress) {
    auto start = Clock::now();
    StagedJob staged;
    staged.request = job_request(host, job.run_id);
    const std::string& job_dir = staged.request.job_dir;
    for (const std::string& dir : {host.cache_dir(), job_dir + "/inputs", job_dir + "/outputs"}) {
        COSMOS_CHECK(host.shell->make_dirs(dir));
    }
    COSMOS_TRY(auto inputs, stage_inputs(host, job, job_dir, progress));
    staged.uploaded_bytes = inputs.uploaded_bytes;
    COSMOS_CHECK(link_inputs(host, inputs.links));
    COSMOS_TRY(auto batch_path, write_spec_files(host, job, inputs.remote_paths, staged));
    staged.request.after_job_dirs = job.after_job_dirs;
    staged.request.gpus = job_gpus(host, job);
    staged.request.command = job_command(host, job, staged.remote_spec, batch_path.has_value());
    for (const auto& [k, v] : host.config.env) {
        if (core::is_secret_name(k)) {
            staged.request.secret_env[k] = v;
        }
    }
    staged.upload_seconds = seconds_since(start);
    return staged;
}

core::Status launch_job(const RemoteHost& host, const runtime::LaunchRequest& request) {
    if (auto s = runtime::validate_request(host.runtime_options, request); !s) {
        return s;
    }
    for (const auto& file : host.runtime->launch_files(request)) {
        if (auto s = host.shell->write_file(file.path, file.content, file.mode); !s) {
            return s;
        }
    }
    if (host.submit) {
        return host.submit(host, request);  // e.g. Slurm: one array for jobs submitted together
    }
    COSMOS_TRY(auto r, host.shell->run(host.runtime->launch_command(request)));
    auto started = require_ok(
        r, fmt::format("starting run {} ({} runtime)", request.job_id, host.runtime->name()), host);
    if (!started) {
        // A launcher that cannot write its pid or log on a full disk only says it did not start.
        if (auto full = disk_full_note(host, request)) {
            auto e = std::move(started).error();
            e.message += fmt::format("; the disk on {} is full ({})", host.config.name, *full);
            e.hint = "free space there (cosmos hosts clean " + host.config.name +
                     ") or set a work_dir on a larger disk";
            return core::fail(std::move(e));
        }
    }
    return started;
}

core::Result<runtime::Observed> observe_job(const RemoteHost& host,
                                            const runtime::LaunchRequest& request) {
    COSMOS_TRY(auto r, host.shell->run(host.runtime->status_command(request)));
    return host.runtime->parse_status(r.exit_code, r.out);
}

std::optional<std::string> image_identity(const RemoteHost& host) {
    auto argv = host.runtime->image_info_command();
    if (!argv) {
        return std::nullopt;
    }
    auto r = host.shell->run(*argv);
    if (!r || r->exit_code != 0) {
        return std::nullopt;
    }
    auto info = runtime::parse_image_inspect(r->out);
    if (!info) {
        return std::nullopt;
    }
    std::string out = info->id;
    for (const auto& d : info->repo_digests) {
        out += " " + d;
    }
    return out;
}

namespace {

// Takes the followed log's lines: skips those an earlier attach saw, redacts, mirrors into the
// local log, emits LogLine and (when the tracker moves) Progress events.
class LogFollower {
public:
    LogFollower(const std::string& job_id,
                model::ProgressTracker tracker,
                const fs::path& local_log,
                const EventSink& sink)
        : m_job_id(job_id), m_tracker(std::move(tracker)), m_sink(sink) {
        if (!local_log.empty()) {
            m_log.open(local_log, std::ios::trunc | std::ios::binary);
        }
    }

    // Follows again from the start of the log: the lines seen so far are skipped.
    void restart() { m_skip = m_lines; }
    std::int64_t lines() const { return m_lines; }

    void operator()(std::string_view raw) {
        if (m_skip > 0) {
            --m_skip;
            return;
        }
        ++m_lines;
        std::string line = core::redact(raw);
        if (m_log.is_open()) {
            m_log << line << '\n';
            m_log.flush();
        }
        if (m_sink) {
            m_sink(LogLine{m_job_id, line});
        }
        if (m_tracker.feed(line) && m_sink) {
            m_sink(Progress{m_job_id,
                            m_tracker.fraction(),
                            m_tracker.completed_chunks(),
                            m_tracker.expected(),
                            m_tracker.phase()});
        }
    }

private:
    std::string m_job_id;
    model::ProgressTracker m_tracker;
    const EventSink& m_sink;
    std::ofstream m_log;
    std::int64_t m_lines = 0;
    std::int64_t m_skip = 0;
};

// Sleeps `wait` in 50 ms steps; false when `stop` became true meanwhile.
bool sleep_unless_stopped(std::chrono::milliseconds wait, const std::atomic<bool>* stop) {
    for (auto waited = std::chrono::milliseconds(0); waited < wait;
         waited += std::chrono::milliseconds(50)) {
        if (stop != nullptr && stop->load()) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

// A connection lost while following a job: how long ago, and how long to wait next.
struct Reconnect {
    std::optional<Clock::time_point> lost_since;
    std::chrono::milliseconds backoff{250};
};

// After the follower could not reach the host: waits the back-off (doubling, up to 8 s) and
// says to try again, or fails once the host stayed away longer than `budget` (or on `stop`).
core::Status wait_to_reconnect(Reconnect& rc,
                               const core::Error& why,
                               const RemoteHost& host,
                               const std::string& job_id,
                               std::chrono::seconds budget,
                               const std::atomic<bool>* stop) {
    if (!rc.lost_since) {
        rc.lost_since = Clock::now();
        core::log(core::LogLevel::warn,
                  "lost the connection to {} while following {}: {}; re-attaching",
                  host.config.name,
                  job_id,
                  why.message);
    }
    if (Clock::now() - *rc.lost_since > budget) {
        return fail(
            ErrorCode::host_unreachable,
            fmt::format("host {} unreachable for {} s while following run {}",
                        host.config.name,
                        budget.count(),
                        job_id),
            fmt::format("the run keeps going on the host; re-attach with: cosmos logs -f {}",
                        job_id));
    }
    if (!sleep_unless_stopped(rc.backoff, stop)) {
        return fail(ErrorCode::interrupted, "interrupted");
    }
    rc.backoff = std::min(rc.backoff * 2, std::chrono::milliseconds(8000));
    return {};
}

}  // namespace

core::Result<WatchResult> watch_job(const RemoteHost& host,
                                    const runtime::LaunchRequest& request,
                                    model::ProgressTracker tracker,
                                    const fs::path& local_log,
                                    const EventSink& sink,
                                    const std::atomic<bool>* stop,
                                    std::chrono::seconds reconnect_budget) {
    LogFollower follower(request.job_id, std::move(tracker), local_log, sink);
    Reconnect reconnect;
    for (;;) {
        follower.restart();
        auto streamed = host.shell->stream(
            host.runtime->follow_log_command(request),
            [&follower](std::string_view line) { follower(line); },
            stop);
        if (!streamed && streamed.error().code == ErrorCode::interrupted) {
            return fail(streamed.error());
        }
        core::Result<runtime::Observed> state =
            streamed ? observe_job(host, request)
                     : core::Result<runtime::Observed>(fail(streamed.error()));
        if (state && state->state != runtime::ProcessState::running) {
            return WatchResult{*state, follower.lines()};
        }
        if (state) {  // the follower ended while the model still runs: follow again
            reconnect = Reconnect{};
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            continue;
        }
        if (state.error().code != ErrorCode::host_unreachable &&
            state.error().code != ErrorCode::timeout) {
            return fail(state.error());
        }
        COSMOS_CHECK(wait_to_reconnect(
            reconnect, state.error(), host, request.job_id, reconnect_budget, stop));
    }
}

core::Status kill_job(const RemoteHost& host,
                      const runtime::LaunchRequest& request,
                      std::chrono::milliseconds wait) {
    COSMOS_TRY(auto r, host.shell->run(host.runtime->kill_command(request)));
    if (auto s = require_ok(r, fmt::format("stopping run {}", request.job_id), host); !s) {
        return s;
    }
    auto deadline = Clock::now() + wait;
    for (;;) {
        COSMOS_TRY(auto state, observe_job(host, request));
        if (state.state != runtime::ProcessState::running) {
            return {};
        }
        if (Clock::now() > deadline) {
            return fail(ErrorCode::timeout,
                        fmt::format("run {} still runs on {} {} ms after it was told to stop",
                                    request.job_id,
                                    host.config.name,
                                    wait.count()));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

namespace {

// Downloads every file under `remote_dir` (one level of subfolders: batch outputs live in
// video_<i>/) into `local_dir`, skipping files already complete locally.
core::Status collect_dir(const RemoteHost& host,
                         const std::string& remote_dir,
                         const fs::path& local_dir,
                         int depth,
                         Collected& out) {
    auto names = host.shell->list_dir(remote_dir);
    if (!names) {
        return names.error().code == ErrorCode::not_found ? core::Status{}
                                                          : core::Status(fail(names.error()));
    }
    std::error_code ec;
    fs::create_directories(local_dir, ec);
    for (const auto& name : *names) {
        bool partial = name.size() > 5 && name.compare(name.size() - 5, 5, ".part") == 0;
        if (name == "." || name == ".." || partial) {
            continue;
        }
        std::string remote = remote_dir + "/" + name;
        COSMOS_TRY(auto info, host.shell->stat(remote));
        if (!info) {
            continue;
        }
        fs::path local = local_dir / name;
        if (info->is_dir) {
            if (depth > 0) {
                if (auto s = collect_dir(host, remote, local, depth - 1, out); !s) {
                    return s;
                }
            }
            continue;
        }
        if (fs::is_regular_file(local, ec) && fs::file_size(local, ec) == info->size) {
            out.files.push_back(local.string());
            continue;
        }
        COSMOS_TRY(auto bytes, host.shell->download(remote, local));
        out.downloaded_bytes += bytes;
        out.files.push_back(local.string());
        core::failpoint("collect");
    }
    return {};
}

}  // namespace

// Writes `raw` (the job's log as the model wrote it) to `out` as the watcher mirrors it while it
// runs: split into lines at '\n' and '\r' (tqdm redraws), empty ones dropped, each redacted and
// ended by '\n'. The collected log is then byte for byte what the live view showed (offsets of
// streamed log events stay valid) and holds no secret.
std::string normalized_log(std::string_view raw) {
    std::string out;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= raw.size(); ++i) {
        if (i == raw.size() || raw[i] == '\n' || raw[i] == '\r') {
            if (i > start) {
                out += core::redact(raw.substr(start, i - start));
                out += '\n';
            }
            start = i + 1;
        }
    }
    return out;
}

core::Status write_normalized_log(const fs::path& raw, const fs::path& out) {
    std::ifstream in(raw, std::ios::binary);
    fs::path tmp = core::temp_sibling(out.string());
    std::ofstream dst(tmp, std::ios::binary | std::ios::trunc);
    if (!in || !dst) {
        return fail(ErrorCode::io, fmt::format("cannot write {}", out.string()));
    }
    std::string pending;
    std::vector<char> buf(1 << 16);
    auto flush_line = [&] {
        if (!pending.empty()) {
            dst << core::redact(pending) << '\n';
            pending.clear();
        }
    };
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
        for (std::streamsize i = 0; i < in.gcount(); ++i) {
            char c = buf[static_cast<std::size_t>(i)];
            if (c == '\n' || c == '\r') {
                flush_line();
            } else {
                pending += c;
            }
        }
    }
    flush_line();
    dst.close();
    std::error_code ec;
    if (!dst) {
        fs::remove(tmp, ec);
        return fail(ErrorCode::io,
                    fmt::format("writing {} failed (disk full?)", out.string()),
                    "free disk space in the data dir, then collect again: cosmos logs -f RUN_ID");
    }
    fs::rename(tmp, out, ec);
    if (ec) {
        return fail(ErrorCode::io,
                    fmt::format("cannot replace {}: {}", out.string(), ec.message()));
    }
    return {};
}

core::Result<Collected> collect_job(const RemoteHost& host,
                                    const runtime::LaunchRequest& request,
                                    const fs::path& local_run_dir) {
    auto start = Clock::now();
    std::error_code ec;
    fs::create_directories(local_run_dir, ec);
    core::FileLock lock(local_run_dir / ".collect.lock");
    Collected out;
    // The log first: it explains a failure even if the outputs cannot be fetched.
    std::string remote_log = host.runtime->log_path(request);
    COSMOS_TRY(auto log_info, host.shell->stat(remote_log));
    if (log_info) {
        fs::path raw = local_run_dir / "run.log.raw";
        fs::remove(raw, ec);
        COSMOS_TRY(auto bytes, host.shell->download(remote_log, raw));
        out.downloaded_bytes += bytes;
        COSMOS_CHECK(write_normalized_log(raw, local_run_dir / "run.log"));
        fs::remove(raw, ec);
        out.files.push_back((local_run_dir / "run.log").string());
    }
    if (auto s = collect_dir(host, request.job_dir + "/outputs", local_run_dir / "outputs", 1, out);
        !s) {
        return fail(s.error());
    }
    fs::path video = local_run_dir / "outputs" / "output.mp4";
    if (fs::is_regular_file(video, ec) && fs::file_size(video, ec) > 0) {
        out.output_video = video.string();
    }
    out.download_seconds = seconds_since(start);
    return out;
}

std::optional<std::string> disk_full_note(const RemoteHost& host,
                                          const runtime::LaunchRequest& request) {
    auto free = host.shell->free_bytes(request.job_dir);
    if (!free || !*free || **free >= k_disk_full_bytes) {
        return std::nullopt;
    }
    return fmt::format("{} bytes free in {}", **free, host.work_dir);
}

core::Status cleanup_job(const RemoteHost& host, const runtime::LaunchRequest& request) {
    COSMOS_TRY(auto r, host.shell->run(host.runtime->cleanup_command(request)));
    return require_ok(r, fmt::format("cleaning up run {}", request.job_id), host);
}

}  // namespace cosmos::backends

namespace cosmos::backends {

std::vector<std::string> nvidia_smi_argv(const std::string& cosmos_dir,
                                         const std::vector<std::string>& args) {
    // $1 is the Cosmos dir, the rest nvidia-smi's arguments.
    std::vector<std::string> argv = {
        "sh",
        "-c",
        "d=$1; shift; if command -v nvidia-smi >/dev/null 2>&1; then exec nvidia-smi \"$@\"; "
        "elif [ -x \"$d/bin/nvidia-smi\" ]; then exec \"$d/bin/nvidia-smi\" \"$@\"; "
        "else echo 'nvidia-smi: not found' >&2; exit 127; fi",
        "sh",
        cosmos_dir};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

std::vector<GpuStatus> parse_gpu_query(const std::string& csv) {
    std::vector<GpuStatus> out;
    std::istringstream in(csv);
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::size_t start = 0;
        for (std::size_t i = 0; i <= line.size(); ++i) {
            if (i == line.size() || line[i] == ',') {
                std::string field = line.substr(start, i - start);
                auto b = field.find_first_not_of(" \t\r");
                auto e = field.find_last_not_of(" \t\r");
                f.push_back(b == std::string::npos ? std::string() : field.substr(b, e - b + 1));
                start = i + 1;
            }
        }
        if (f.size() < 5) {
            continue;
        }
        GpuStatus g;
        try {
            g.index = std::stoi(f[0]);
            g.name = f[1];
            g.utilization_percent = f[2] == "[N/A]" ? 0 : std::stoi(f[2]);
            g.memory_used_mib = std::stoll(f[3]);
            g.memory_total_mib = std::stoll(f[4]);
        } catch (const std::exception&) {
            continue;
        }
        out.push_back(std::move(g));
    }
    return out;
}

std::optional<std::uint64_t> parse_df_available(const std::string& out) {
    std::istringstream in(out);
    std::string fs_name, blocks, used, avail;
    std::uint64_t kib = 0;
    if (!(in >> fs_name >> blocks >> used >> avail)) {
        return std::nullopt;
    }
    // Digits only: stoull took "-1" (a full file system on some) for 2^64-1 KiB free.
    auto [end, ec] = std::from_chars(avail.data(), avail.data() + avail.size(), kib);
    if (ec != std::errc() || end != avail.data() + avail.size() ||
        kib > std::numeric_limits<std::uint64_t>::max() / 1024) {
        return std::nullopt;
    }
    return kib * 1024;
}

HostStatus host_status(const RemoteHost& host, const std::vector<std::string>& job_ids) {
    HostStatus st;
    auto start = Clock::now();
    auto ping = host.shell->run({"true"}, transport::CommandOptions{{}, std::chrono::seconds(20)});
    if (!ping) {
        st.error = ping.error().message;
        st.error_code = ping.error().code == core::ErrorCode::auth_failed
                            ? core::ErrorCode::auth_failed
                            : core::ErrorCode::host_unreachable;
        return st;
    }
    st.reachable = true;
    st.latency_ms = seconds_since(start) * 1000.0;
    const std::vector<std::string> query = {
        "--query-gpu=index,name,utilization.gpu,memory.used,memory.total",
        "--format=csv,noheader,nounits"};
    if (auto smi = host.shell->run(nvidia_smi_argv(host.cosmos_dir, query)); !smi) {
        st.gpu_error = smi.error().message;
    } else if (smi->exit_code != 0) {
        st.gpu_error =
            smi->err.empty() ? fmt::format("nvidia-smi exited {}", smi->exit_code) : smi->err;
        while (!st.gpu_error.empty() && st.gpu_error.back() == '\n') {
            st.gpu_error.pop_back();
        }
    } else {
        st.gpus = parse_gpu_query(smi->out);
    }
    // Free space where jobs and the cache live (the work dir may not exist yet: its parent).
    if (auto df = host.shell->run({"sh",
                                   "-c",
                                   "d=$1; while [ ! -d \"$d\" ]; do d=$(dirname \"$d\"); done; "
                                   "df -Pk \"$d\" | tail -n 1",
                                   "sh",
                                   host.work_dir});
        df && df->exit_code == 0) {
        if (auto free = parse_df_available(df->out)) {
            st.free_bytes = *free;
        }
    }
    for (const auto& id : job_ids) {
        auto state = observe_job(host, job_request(host, id));
        if (state && state->state == runtime::ProcessState::running) {
            st.jobs.push_back(id);
        }
    }
    return st;
}

}  // namespace cosmos::backends
