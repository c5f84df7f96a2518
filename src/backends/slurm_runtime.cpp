#include "backends/slurm_runtime.hpp"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <sstream>
#include <string_view>
#include <thread>

#include <fmt/format.h>

#include "backends/slurm_job.hpp"
#include "core/embedded_scripts.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/shell_quote.hpp"

namespace cosmos::backends {

using core::ErrorCode;
using core::fail;

namespace {

// The scripts are src/backends/scripts/slurm-*.sh. Two of them go into a batch script's command
// line, which carries no newline, so they are one line each and lose the newline that ends their
// file: slurm-array-task.sh (bash: runs the job.sbatch of the array task's job dir, whose #SBATCH
// lines are comments to bash, with its output appended to that dir's run.log; the job dirs are
// its arguments, in task order) and slurm-docker-entry.sh (sh: PID 1 of a docker job's
// container, which runs the model and forwards SIGTERM from `docker stop` to its whole process
// group, torchrun and its workers; exits with the model's code).
std::string one_line(std::string_view script) {
    if (!script.empty() && script.back() == '\n') {
        script.remove_suffix(1);
    }
    return std::string(script);
}

std::string docker_job_path(const runtime::LaunchRequest& r) {
    return r.job_dir + "/cosmos-docker.sh";
}

// What the batch job runs for `r`: the model command itself (native), inside `apptainer exec`,
// or inside `docker run` through cosmos-docker.sh (slurm-docker-job.sh). Containers mount the
// checkout at /workspace and the checkpoint and shared dirs at their own paths; the environment the
// script exported (and the secrets it sourced) reaches docker as `-e NAME`, so no value is on a
// command line.
std::vector<std::string> slurm_model_command(const SlurmSettings& settings,
                                             const runtime::LaunchRequest& r) {
    const auto& c = settings.container;
    std::vector<std::string> mounts{r.checkpoint_dir,
                                    settings.shared_dir.empty() ? r.job_dir : settings.shared_dir};
    if (c.kind == core::RuntimeKind::apptainer) {
        return runtime::apptainer_argv(c, r.command.cwd, mounts, r.command.argv);
    }
    if (c.kind != core::RuntimeKind::docker) {
        return r.command.argv;
    }
    auto cli = runtime::docker_cli(c);
    std::vector<std::string> argv{"bash",
                                  docker_job_path(r),
                                  runtime::container_name(r.job_id),
                                  c.gpus_flag,
                                  std::to_string(cli.size())};
    argv.insert(argv.end(), cli.begin(), cli.end());
    auto common = runtime::docker_run_options(c, r.command.cwd, mounts);
    argv.insert(argv.end(), common.begin(), common.end());
    for (const auto* env : {&r.command.env, &r.secret_env}) {
        for (const auto& [k, v] : *env) {
            if (k != "CUDA_VISIBLE_DEVICES" && k != "PYTHONPATH" && runtime::is_env_name(k)) {
                argv.insert(argv.end(), {"-e", k});
            }
        }
    }
    argv.insert(argv.end(), c.extra_docker_args.begin(), c.extra_docker_args.end());
    argv.insert(argv.end(),
                {c.image, "sh", "-c", one_line(scripts::k_slurm_docker_entry), "cosmos-job"});
    argv.insert(argv.end(), r.command.argv.begin(), r.command.argv.end());
    return argv;
}

// A job with the host's partition, account, time limit and CPUs.
SlurmJobSpec job_with_host_settings(const SlurmSettings& settings) {
    SlurmJobSpec spec;
    spec.partition = settings.partition;
    if (!settings.account.empty()) {
        spec.account = settings.account;
    }
    if (!settings.time_limit.empty()) {
        spec.time_limit = settings.time_limit;
    }
    if (settings.cpus_per_task > 0) {
        spec.cpus_per_task = settings.cpus_per_task;
    }
    return spec;
}

// The batch job of `r`: the model command in the foreground, its output appended to
// run.log, its exit code recorded in exit_code, secrets sourced from secret.env.
SlurmJobSpec slurm_job_spec(const SlurmSettings& settings, const runtime::LaunchRequest& r) {
    SlurmJobSpec spec = job_with_host_settings(settings);
    spec.job_name = slurm_job_name(r.job_id);
    spec.gpus = std::max(1, r.gpus);
    spec.output_path = r.job_dir + "/run.log";
    // A container's command is built for the checkout at /workspace: the job starts in its dir.
    bool contained = settings.container.kind != core::RuntimeKind::native;
    spec.work_dir = contained || r.command.cwd.empty() ? r.job_dir : r.command.cwd;
    spec.exit_code_path = r.job_dir + "/exit_code";
    spec.command = slurm_model_command(settings, r);
    for (const auto& [k, v] : r.command.env) {
        if (k != "CUDA_VISIBLE_DEVICES") {  // Slurm binds the job's GPUs, not us
            spec.env[k] = v;
        }
    }
    if (!r.secret_env.empty()) {
        spec.source_file = r.job_dir + "/secret.env";
    }
    return spec;
}

class SlurmRuntime final : public runtime::Runtime {
public:
    explicit SlurmRuntime(SlurmSettings settings) : m_settings(std::move(settings)) {}

    std::string name() const override { return "slurm"; }

    std::vector<runtime::FileToWrite> launch_files(const runtime::LaunchRequest& r) const override {
        SlurmJobSpec spec = slurm_job_spec(m_settings, r);
        std::vector<runtime::FileToWrite> files;
        if (!r.secret_env.empty()) {
            std::string content;
            for (const auto& [k, v] : r.secret_env) {
                if (runtime::is_env_name(k)) {
                    content += "export " + k + "=" + core::shell_quote(v) + "\n";
                }
            }
            files.push_back({spec.source_file, content, 0600});
        }
        if (m_settings.container.kind == core::RuntimeKind::docker) {
            files.push_back({docker_job_path(r), std::string(scripts::k_slurm_docker_job), 0700});
        }
        // A script that cannot be written (a value its header cannot carry) is not written;
        // submit_slurm_job (and launch_command) then refuse with the reason.
        if (auto script = slurm_batch_script(spec)) {
            files.push_back({r.job_dir + "/job.sbatch", *script, 0644});
        }
        return files;
    }

    std::vector<std::string> launch_command(const runtime::LaunchRequest& r) const override {
        if (auto script = slurm_batch_script(slurm_job_spec(m_settings, r)); !script) {
            return {"sh",
                    "-c",
                    "rm -f \"$1/secret.env\"; echo \"cosmos: $2\" >&2; exit 2",
                    "cosmos-submit",
                    r.job_dir,
                    script.error().message};
        }
        return {"sh",
                "-c",
                std::string(scripts::k_slurm_submit),
                "cosmos-submit",
                r.job_dir + "/job.sbatch",
                r.job_dir};
    }

    std::vector<std::string> status_command(const runtime::LaunchRequest& r) const override {
        return {"sh", "-c", std::string(scripts::k_slurm_status), "cosmos-status", r.job_dir};
    }

    core::Result<runtime::Observed> parse_status(int exit_code,
                                                 const std::string& out) const override {
        auto at = out.find("slurm ");
        if (at != 0 && (at == std::string::npos || out[at - 1] != '\n')) {
            return runtime::parse_state_line(exit_code, out);
        }
        std::optional<runtime::Observed> recorded;  // the script's own exit code
        if (at > 0) {
            COSMOS_TRY(auto seen, runtime::parse_state_line(exit_code, out.substr(0, at)));
            recorded = seen;
        }
        auto nl = out.find('\n', at);
        std::string id =
            out.substr(at + 6, nl == std::string::npos ? std::string::npos : nl - at - 6);
        std::string rest = nl == std::string::npos ? std::string() : out.substr(nl + 1);
        auto records = parse_scontrol_show_job(rest);
        if (!records || records->empty()) {
            if (recorded) {
                return *recorded;  // Slurm forgot the job; its exit code says enough
            }
            if (auto acct = rest.find("\nsacct\n"); acct != std::string::npos) {
                std::istringstream lines(rest.substr(acct + 7));
                for (std::string line; std::getline(lines, line);) {
                    if (auto job = parse_sacct_line(line); job && job->job_id == id) {
                        return observed(*job);  // how it ended, from accounting
                    }
                }
            }
            if (rest.find("Invalid job id") != std::string::npos) {
                // Slurm forgot the job (MinJobAge passed) and the script recorded no exit code.
                runtime::Observed gone;
                gone.state = runtime::ProcessState::exited;
                gone.reason = fmt::format("Slurm job {} ended without recording an exit code", id);
                return gone;
            }
            return fail(
                ErrorCode::remote_failed,
                fmt::format("cannot read the state of Slurm job {}: {}", id, core::redact(rest)));
        }
        auto seen = observed(records->front());
        if (recorded) {
            // The script recorded a code; Slurm adds why it ended when Slurm ended it.
            if (seen.state == runtime::ProcessState::exited && !seen.reason.empty() &&
                seen.reason.rfind("exit code", 0) != 0 && seen.reason.rfind("signal", 0) != 0) {
                recorded->reason = seen.reason;
                recorded->transient = seen.transient;
            }
            return *recorded;
        }
        return seen;
    }

    std::vector<std::string> kill_command(const runtime::LaunchRequest& r) const override {
        return {"sh", "-c", std::string(scripts::k_slurm_kill), "cosmos-kill", r.job_dir};
    }

    std::vector<std::string> follow_log_command(const runtime::LaunchRequest& r) const override {
        return {"sh", "-c", std::string(scripts::k_slurm_follow), "cosmos-follow", r.job_dir};
    }

    std::string log_path(const runtime::LaunchRequest& r) const override {
        return r.job_dir + "/run.log";
    }

    std::vector<std::string> cleanup_command(const runtime::LaunchRequest& r) const override {
        return {"rm", "-f", "--", r.job_dir + "/secret.env"};
    }

    std::optional<std::vector<std::string>> image_info_command() const override {
        return std::nullopt;
    }

private:
    // A job as the runtime protocol sees it, from what Slurm says of it.
    static runtime::Observed observed(const SlurmJobStatus& job) {
        runtime::Observed seen;
        auto verdict = slurm_verdict(job);
        switch (verdict.outcome) {
            case SlurmOutcome::active:
                seen.state = runtime::ProcessState::running;
                seen.reason = job.state_name;
                if (!job.reason.empty() && job.reason != "None") {
                    seen.reason += fmt::format(" ({})", job.reason);
                }
                return seen;
            case SlurmOutcome::succeeded:
                // COMPLETED, but the exit-code file is not visible yet (a shared file system's
                // attribute cache): the script exited 0 only after the model did.
                seen.state = runtime::ProcessState::exited;
                seen.exit_code = 0;
                return seen;
            case SlurmOutcome::cancelled:
                seen.state = runtime::ProcessState::exited;
                seen.exit_code = 143;
                seen.reason = verdict.reason;
                return seen;
            case SlurmOutcome::failed:
            case SlurmOutcome::transient:
                seen.state = runtime::ProcessState::exited;
                seen.exit_code = job.signal ? 128 + *job.signal : job.exit_code.value_or(1);
                if (seen.exit_code == 0) {
                    seen.exit_code = 1;
                }
                seen.reason = verdict.reason;
                seen.transient = verdict.outcome == SlurmOutcome::transient;
                return seen;
        }
        return seen;
    }

    SlurmSettings m_settings;
};

}  // namespace

SlurmSettings slurm_settings(const RemoteHost& host) {
    const auto& c = host.config.slurm;
    return SlurmSettings{
        c.partition, c.account, c.time_limit, c.cpus_per_task, host.runtime_options, host.work_dir};
}

std::unique_ptr<runtime::Runtime> make_slurm_runtime(SlurmSettings settings) {
    return std::make_unique<SlurmRuntime>(std::move(settings));
}

std::string slurm_job_name(const std::string& job_id) {
    return "cosmos-" + job_id;
}

namespace {

// Jobs waiting to be submitted together (see submit_slurm_job).
struct ArrayMember {
    std::string job_dir;
    core::Status result;
    bool done = false;
};

struct ArrayGroup {
    std::vector<ArrayMember*> members;
    bool open = true;
};

std::mutex g_groups_mutex;
std::condition_variable g_groups_done;
std::map<std::string, std::shared_ptr<ArrayGroup>> g_open_groups;

// `text` without trailing spaces and newlines (what the job scripts print or record).
std::string trimmed(std::string text) {
    text.erase(text.find_last_not_of(" \n") + 1);
    return text;
}

// Runs the submit script for `script` and `dirs` on the host.
core::Status run_submit(const RemoteHost& host,
                        const std::string& script,
                        const std::vector<std::string>& dirs) {
    std::vector<std::string> argv{
        "sh", "-c", std::string(scripts::k_slurm_submit), "cosmos-submit", script};
    argv.insert(argv.end(), dirs.begin(), dirs.end());
    COSMOS_TRY(auto r, host.shell->run(argv));
    if (r.exit_code != 0) {
        std::string why = trimmed(core::redact(r.err.empty() ? r.out : r.err));
        return fail(r.exit_code == 3 ? ErrorCode::conflict : ErrorCode::remote_failed,
                    fmt::format("submitting to Slurm on host {} failed: {}", host.config.name, why),
                    "see `cosmos status " + host.config.name + "` and the partition's limits");
    }
    return {};
}

// Submits the job dirs of one group: a plain job for one, an array for several.
core::Status submit_group(const RemoteHost& host,
                          const runtime::LaunchRequest& first,
                          const std::vector<std::string>& dirs) {
    if (dirs.size() == 1) {
        return run_submit(host, dirs.front() + "/job.sbatch", dirs);
    }
    auto settings = slurm_settings(host);
    std::string name = "cosmos-array-" + core::new_id(core::IdKind::job).substr(4, 12);
    std::string arrays = host.work_dir + "/arrays";
    SlurmJobSpec spec = job_with_host_settings(settings);
    spec.job_name = name;
    spec.gpus = std::max(1, first.gpus);
    spec.output_path = "/dev/null";  // each task appends to its own job dir's run.log
    spec.work_dir = host.work_dir;
    spec.exit_code_path = arrays + "/" + name + ".exit";
    spec.array_size = static_cast<int>(dirs.size());
    spec.command = {"bash", "-c", one_line(scripts::k_slurm_array_task), "cosmos-array"};
    spec.command.insert(spec.command.end(), dirs.begin(), dirs.end());
    COSMOS_TRY(auto script, slurm_batch_script(spec));
    if (auto s = host.shell->make_dirs(arrays); !s) {
        return s;
    }
    std::string path = arrays + "/" + name + ".sbatch";
    if (auto s = host.shell->write_file(path, script); !s) {
        return s;
    }
    return run_submit(host, path, dirs);
}

}  // namespace

// The Slurm job ids of the jobs in `dirs` that have not succeeded yet, waiting (10 minutes at
// most) for each to be submitted. Fails with conflict when one already failed.
core::Result<std::vector<std::string>> parent_job_ids(const RemoteHost& host,
                                                      const std::vector<std::string>& dirs) {
    std::vector<std::string> ids;
    for (const auto& dir : dirs) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
        for (;;) {
            if (auto code = host.shell->read_file(dir + "/exit_code", 64)) {
                std::string c = trimmed(*code);
                if (c != "0") {
                    return fail(
                        ErrorCode::conflict,
                        fmt::format(
                            "the job this one waits for ({}) failed with exit code {}", dir, c));
                }
                break;  // succeeded already: nothing to wait for
            }
            if (auto id = host.shell->read_file(dir + "/slurm_job_id", 64)) {
                std::string text = trimmed(*id);
                if (!text.empty()) {
                    ids.push_back(text);
                    break;
                }
            }
            if (std::chrono::steady_clock::now() > deadline) {
                return fail(
                    ErrorCode::timeout,
                    fmt::format(
                        "the job this one waits for ({}) was not submitted within 10 minutes",
                        dir));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
    }
    return ids;
}

core::Status submit_slurm_job(const RemoteHost& host,
                              const runtime::LaunchRequest& request,
                              std::chrono::milliseconds window) {
    auto settings = slurm_settings(host);
    if (auto script = slurm_batch_script(slurm_job_spec(settings, request)); !script) {
        // launch_files wrote no script: a value the #SBATCH header cannot carry.
        core::warn_on_error(host.shell->run({"rm", "-f", "--", request.job_dir + "/secret.env"}),
                            "host.shell->run");
        return fail(script.error());
    }
    if (!request.after_job_dirs.empty()) {
        // A chain: submitted on its own, held by Slurm until its parents succeeded (and
        // cancelled by Slurm when one fails: --kill-on-invalid-dep).
        COSMOS_TRY(auto parents, parent_job_ids(host, request.after_job_dirs));
        auto spec = slurm_job_spec(settings, request);
        spec.dependency_afterok = parents;
        COSMOS_TRY(auto script, slurm_batch_script(spec));
        if (auto s = host.shell->write_file(request.job_dir + "/job.sbatch", script); !s) {
            return s;
        }
        return run_submit(host, request.job_dir + "/job.sbatch", {request.job_dir});
    }
    // Only jobs whose #SBATCH header would be the same can share an array.
    std::string key = fmt::format("{}|{}|{}|{}|{}|{}",
                                  host.config.name,
                                  settings.partition,
                                  settings.account,
                                  settings.time_limit,
                                  settings.cpus_per_task,
                                  std::max(1, request.gpus));
    ArrayMember me{request.job_dir, {}, false};
    std::shared_ptr<ArrayGroup> group;
    bool leader = false;
    {
        std::lock_guard lock(g_groups_mutex);
        auto it = g_open_groups.find(key);
        if (it != g_open_groups.end() && it->second->open) {
            group = it->second;
        } else {
            group = std::make_shared<ArrayGroup>();
            g_open_groups[key] = group;
            leader = true;
        }
        group->members.push_back(&me);
    }
    if (!leader) {
        std::unique_lock lock(g_groups_mutex);
        g_groups_done.wait(lock, [&me] { return me.done; });
        return me.result;
    }
    std::this_thread::sleep_for(window);
    std::vector<std::string> dirs;
    {
        std::lock_guard lock(g_groups_mutex);
        group->open = false;
        if (auto it = g_open_groups.find(key); it != g_open_groups.end() && it->second == group) {
            g_open_groups.erase(it);
        }
        for (const auto* m : group->members) {
            dirs.push_back(m->job_dir);
        }
    }
    core::Status result = submit_group(host, request, dirs);
    {
        std::lock_guard lock(g_groups_mutex);
        for (auto* m : group->members) {
            m->result = result;
            m->done = true;
        }
    }
    g_groups_done.notify_all();
    return result;
}

SlurmHostStatus slurm_host_status(const RemoteHost& host) {
    SlurmHostStatus st;
    auto start = std::chrono::steady_clock::now();
    auto sinfo = host.shell->run(sinfo_nodes_argv(host.config.slurm.partition));
    st.latency_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!sinfo) {
        st.error = sinfo.error().message;
        return st;
    }
    if (sinfo->exit_code != 0) {
        st.error = fmt::format("sinfo failed: {}",
                               core::redact(sinfo->err.empty() ? sinfo->out : sinfo->err));
        return st;
    }
    st.reachable = true;
    st.nodes = parse_sinfo_nodes(sinfo->out);
    if (st.nodes.empty()) {
        st.error = fmt::format("partition {} has no nodes (sinfo -p {})",
                               host.config.slurm.partition,
                               host.config.slurm.partition);
    }
    for (const auto& n : st.nodes) {
        st.gpus_total += n.gpus;
        bool usable = n.state.find("down") == std::string::npos &&
                      n.state.find("drain") == std::string::npos &&
                      n.state.find("fail") == std::string::npos &&
                      n.state.find("not_responding") == std::string::npos;
        if (usable) {
            st.gpus_free += std::max(0, n.gpus - n.gpus_used);
        }
    }
    auto squeue = host.shell->run(squeue_partition_argv(host.config.slurm.partition));
    if (squeue && squeue->exit_code == 0) {
        st.jobs = parse_squeue_partition(squeue->out);
    } else if (st.error.empty()) {
        st.error = squeue ? fmt::format("squeue failed: {}", core::redact(squeue->err))
                          : squeue.error().message;
    }
    return st;
}

}  // namespace cosmos::backends
