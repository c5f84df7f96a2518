#pragma once
// How a model command runs on a host, detached from the SSH session that starts it: `native`
// (a supervisor started in its own session with setsid, the model in a session of its own with a
// pid file, in the host's Python environment), `apptainer` (the same supervisor, the model in
// `apptainer exec` of an image) or `docker` (a detached container named after the job). A runtime
// only builds argv vectors and file contents and parses what its commands print; the backend runs
// them through a transport::Shell. Launch, watch, collect and cancel are therefore the same code
// path for every runtime, apart from the commands built here.
//
// Every command is an argv vector. Where a shell is needed on the host, the script is a constant
// string (or a file with constant content) and every user-supplied value reaches it as a
// positional argument ("$@") or inside a file written with core::shell_quote, never pasted into
// the script. docs/runtimes.md describes the files and the protocol.
//
// The job directory (LaunchRequest::job_dir) on the host holds, for both runtimes:
//   spec.json       written by the backend
//   run.log         the model's full stdout+stderr (appended), the file collected home
//   exit_code       the model's exit status (128+N when a signal ended it), written atomically
//                   when the model ends
//   outputs/        the backend passes --video_save_folder inside the job dir
//   secret.env      0600, only between launch_files and the moment the launcher has read it
//   native only: cosmos-job.sh (the constant supervisor script) and pid (the model's pid,
//                which is also its process group and session id)

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/kinds.hpp"
#include "core/result.hpp"
#include "model/transfer_command.hpp"

namespace cosmos::runtime {

// Settings of the host that shape the runtime's commands (from the host's configuration).
struct RuntimeOptions {
    core::RuntimeKind kind = core::RuntimeKind::native;
    // docker
    std::string docker = "docker";  // the docker CLI on the host (podman works too)
    // Global options placed between the CLI and its subcommand, e.g. {"-H", "unix:///d.sock"}.
    std::vector<std::string> docker_global_args;
    std::string image;              // image reference (pinned tag or digest); apptainer: a .sif
    std::string gpus_flag = "all";  // value of --gpus; empty: no --gpus flag (test engines);
                                    // apptainer: empty means no --nv
    std::string apptainer = "apptainer";  // the apptainer CLI on the host
    std::string shm_size = "8g";
    std::vector<std::string> extra_docker_args;  // e.g. --network=host, from host config
    // The Cosmos checkout on the host, mounted at /workspace (docker). Empty: the launch
    // command's cwd is used.
    std::string cosmos_dir;
};

struct LaunchRequest {
    std::string job_id;   // names the container / process; deterministic so a worker re-attaches
    std::string job_dir;  // on the host: spec, log, outputs, pid and exit-code files live here
    model::LaunchCommand command;  // the model command (argv, env, cwd = checkout root)
    std::string checkpoint_dir;    // mounted into containers at the same path
    // Secrets (HF_TOKEN...): written to a 0600 file in the job dir, read by the launcher and
    // removed; never on any command line.
    std::map<std::string, std::string> secret_env;
    int gpus = 1;  // GPUs the job needs (runtimes that request them from a scheduler)
    // Job dirs of jobs that must succeed first (slurm: --dependency=afterok on their Slurm jobs).
    std::vector<std::string> after_job_dirs;
};

struct FileToWrite {
    std::string path;
    std::string content;
    int mode = 0644;
};

enum class ProcessState {
    running,  // the process/container is alive
    exited,   // it ended; exit_code is known (-1: it vanished without recording one)
    absent,   // never started, or its traces are gone
};

struct Observed {
    ProcessState state = ProcessState::absent;
    int exit_code = -1;
    // Set by runtimes whose jobs a scheduler may end (slurm): why it ended ("TIMEOUT",
    // "NODE_FAIL"...) or, while running, why it waits ("PENDING (Priority)"); empty otherwise.
    std::string reason;
    bool transient = false;  // ended by the cluster's fault (node failure, preemption): retry it
};

// Identity of a docker image, for the reproducibility record.
struct ImageInfo {
    std::string id;                         // "sha256:..."
    std::vector<std::string> repo_digests;  // "repo@sha256:...", empty for a local-only image
};

class Runtime {
public:
    virtual ~Runtime() = default;
    virtual std::string name() const = 0;

    // Files the launch needs on the host (supervisor script, secret env file), written first
    // (Shell::write_file with their mode) and in this order.
    virtual std::vector<FileToWrite> launch_files(const LaunchRequest& request) const = 0;
    // Starts the model detached and returns at once (exit 0 when started; the secret file is
    // gone when it returns, whatever its exit). Refuses with a non-zero exit and a message on
    // stderr when the job is already running (native: the pid file names a live process;
    // docker: a container of that name exists) — re-attach instead.
    virtual std::vector<std::string> launch_command(const LaunchRequest& request) const = 0;
    // Prints one line: `running [PID]`, `exited CODE`, `vanished PID` (native: the model is gone
    // and recorded no exit code) or `absent`. `parse_status` reads its exit code and stdout;
    // it fails (remote_failed) when the command could not tell (docker daemon unreachable).
    virtual std::vector<std::string> status_command(const LaunchRequest& request) const = 0;
    virtual core::Result<Observed> parse_status(int exit_code, const std::string& out) const = 0;
    // Stops the model: SIGTERM to its whole process tree, SIGKILL after a grace, done within
    // 5 s; exit 0 also when already gone. Afterwards the status reads `exited` with 128+N or
    // the model's own code for SIGTERM (143 for the emulator).
    virtual std::vector<std::string> kill_command(const LaunchRequest& request) const = 0;
    // Prints the model's log from its first line and follows it until the model ends (also
    // when it ended before the command started: then it prints the whole log and exits).
    virtual std::vector<std::string> follow_log_command(const LaunchRequest& request) const = 0;
    // The file on the host that holds the full log once the model ended (collected home).
    virtual std::string log_path(const LaunchRequest& request) const = 0;
    // Removes what the runtime left behind (stopped container, secret file...); exit 0 also when
    // there is nothing to remove.
    virtual std::vector<std::string> cleanup_command(const LaunchRequest& request) const = 0;
    // docker: `docker image inspect --format '{{.Id}} {{json .RepoDigests}}' IMAGE`, parsed by
    // parse_image_inspect; native: nullopt (no image).
    virtual std::optional<std::vector<std::string>> image_info_command() const = 0;
};

// True for a POSIX environment variable name: [A-Za-z_][A-Za-z0-9_]*.
bool is_env_name(std::string_view name);

// Checks what the command builders assume; backends call it before launch_files: job id
// [A-Za-z0-9_.-]+, absolute job dir, environment and secret names [A-Za-z_][A-Za-z0-9_]*,
// no NUL anywhere, no newline in secret values (docker's --env-file is line based), no ':' in
// paths a container mounts (docker's -v syntax) and no ',' either for apptainer (--bind lists).
// Fails with invalid_input naming the value.
core::Status validate_request(const RuntimeOptions& options, const LaunchRequest& request);

// Returns the runtime for `options.kind`; fails with config for an unknown kind and for docker
// or apptainer without an image.
core::Result<std::unique_ptr<Runtime>> make_runtime(const RuntimeOptions& options);

// The options of `docker run` every container of ours gets: --ipc=host, --shm-size, the
// checkout (options.cosmos_dir, else `cwd`) at /workspace, each of `mounts` at its own path,
// -w /workspace and PYTHONPATH=/workspace. The model command must be built as the container
// sees it (docs/runtimes.md).
std::vector<std::string> docker_run_options(const RuntimeOptions& options,
                                            const std::string& cwd,
                                            const std::vector<std::string>& mounts);

// The docker CLI and its global options: {options.docker, options.docker_global_args...}.
std::vector<std::string> docker_cli(const RuntimeOptions& options);

// `argv` run in the apptainer image options.image: `apptainer exec [--nv] --bind
// CHECKOUT:/workspace --bind M:M... --pwd /workspace --env PYTHONPATH=/workspace IMAGE argv...`
// (CHECKOUT: options.cosmos_dir, else `cwd`). The process inherits the caller's environment
// (CUDA_VISIBLE_DEVICES, secrets), as apptainer passes it on by default; it stays a child of
// the caller, in its process group, so the native supervisor's kill and Slurm's cgroup reach it.
std::vector<std::string> apptainer_argv(const RuntimeOptions& options,
                                        const std::string& cwd,
                                        const std::vector<std::string>& mounts,
                                        const std::vector<std::string>& argv);

// The container's name: "cosmos-" + the full job id.
std::string container_name(const std::string& job_id);

// Parses `{{.Id}} {{json .RepoDigests}}`; fails with remote_failed on anything else.
core::Result<ImageInfo> parse_image_inspect(const std::string& out);

// Parses the one-line state both runtimes' status commands print (see status_command).
core::Result<Observed> parse_state_line(int exit_code, const std::string& out);

}  // namespace cosmos::runtime
