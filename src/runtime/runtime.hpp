#pragma once
// How a model command runs on a host, detached from the SSH session that starts it: `native`
// (the launcher started in its own session with a pid file, in the host's Python environment) or
// `docker` (a detached container named after the job). A runtime only builds argv vectors and
// file contents and parses what its status command prints; the backend runs them through a
// transport::Shell. Launch, watch, collect and cancel are therefore the same code path for every
// runtime, apart from the commands built here.
//
// Every command is an argv vector. Where a shell is needed on the host, the script is a constant
// string and every user-supplied value reaches it as a positional argument ("$@") or inside a
// file, never pasted into the script.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "model/transfer_command.hpp"

namespace cosmos::runtime {

// Settings of the host that shape the runtime's commands (from the host's configuration).
struct RuntimeOptions {
    std::string kind = "native";  // native | docker
    // docker
    std::string docker = "docker";   // the docker CLI on the host (podman works too)
    std::string image;               // image reference (pinned tag or digest)
    std::string gpus_flag = "all";   // value of --gpus; empty: no --gpus flag (test engines)
    std::string shm_size = "8g";
    std::vector<std::string> extra_docker_args;  // e.g. --network=host, from host config
};

struct LaunchRequest {
    std::string job_id;   // names the container / process; deterministic so a worker re-attaches
    std::string job_dir;  // on the host: spec, log, outputs, pid and exit-code files live here
    model::LaunchCommand command;  // the model command (argv, env, cwd = checkout root)
    std::string checkpoint_dir;    // mounted into containers at the same path
    // Secrets (HF_TOKEN...): written to a 0600 file in the job dir, read by the launcher and
    // removed; never on any command line.
    std::map<std::string, std::string> secret_env;
};

struct FileToWrite {
    std::string path;
    std::string content;
    int mode = 0644;
};

enum class ProcessState {
    running,  // the process/container is alive
    exited,   // it ended; exit_code is known
    absent,   // never started, or its traces are gone
};

struct Observed {
    ProcessState state = ProcessState::absent;
    int exit_code = -1;
};

class Runtime {
public:
    virtual ~Runtime() = default;
    virtual std::string name() const = 0;

    // Files the launch needs on the host (launcher script, secret env file), written first.
    virtual std::vector<FileToWrite> launch_files(const LaunchRequest& request) const = 0;
    // Starts the model detached and returns at once (exit 0 when started).
    virtual std::vector<std::string> launch_command(const LaunchRequest& request) const = 0;
    // Prints the state; `parse_status` reads its exit code and stdout.
    virtual std::vector<std::string> status_command(const LaunchRequest& request) const = 0;
    virtual Observed parse_status(int exit_code, const std::string& out) const = 0;
    // Stops the model (the whole process tree / the container); exit 0 also when already gone.
    virtual std::vector<std::string> kill_command(const LaunchRequest& request) const = 0;
    // Prints the model's log from its first line and follows it until the model ends.
    virtual std::vector<std::string> follow_log_command(const LaunchRequest& request) const = 0;
    // The file on the host that holds the full log once the model ended (collected home).
    virtual std::string log_path(const LaunchRequest& request) const = 0;
    // Removes what the runtime left behind (stopped container...); exit 0 also when nothing.
    virtual std::vector<std::string> cleanup_command(const LaunchRequest& request) const = 0;
};

// Returns the runtime for `options.kind`; fails with config for an unknown kind.
core::Result<std::unique_ptr<Runtime>> make_runtime(const RuntimeOptions& options);

}  // namespace cosmos::runtime
