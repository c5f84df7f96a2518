#pragma once
// Slurm as text, with no I/O: the batch script a job runs (its #SBATCH header and a body that
// refuses to run a requeued job twice and records the exit code atomically), the argv of
// sbatch / scancel / squeue / sacct, parsers of what they and `scontrol show job` and the
// jobcomp/filetxt log print, and the mapping of Slurm job states onto what the queue does next
// (keep waiting, succeeded, failed, cancelled, retry). The Slurm backend runs these argv vectors
// through a transport::Shell; everything here is unit-tested against output captured from
// Slurm 22.05.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace cosmos::backends {

// One Slurm job (or job array) to submit. Values in the #SBATCH header are validated rather
// than quoted (sbatch reads that header itself); values in the body pass through shell_quote.
struct SlurmJobSpec {
    std::string job_name;                         // [A-Za-z0-9_.-]+
    std::string partition;                        // [A-Za-z0-9_.-]+
    std::optional<std::string> account;           // [A-Za-z0-9_.-]+
    std::optional<std::string> time_limit;        // Slurm time: "30", "1:00:00", "2-00:00:00"
    int gpus = 1;                                 // --gres=gpu:N; 0: no GPU request
    std::optional<int> cpus_per_task;             // --cpus-per-task
    std::string output_path;                      // absolute; Slurm's %j %A %a allowed
    std::string work_dir;                         // absolute; the job's cwd
    std::vector<std::string> dependency_afterok;  // job ids: --dependency=afterok:A:B
    std::optional<int> array_size;                // --array=0-(N-1)
    std::vector<std::string> command;             // argv run by the job
    std::map<std::string, std::string> env;       // exported before the command
    // A file of `export NAME='value'` lines (secrets, mode 0600) sourced and then deleted before
    // the command runs, so secrets never sit in the script or on a command line. Empty: none.
    std::string source_file;
    // Absolute path of the file the script writes the command's exit code to (atomically).
    // In an array, each task writes EXIT_CODE_PATH.TASK_ID.
    std::string exit_code_path;
};

// The batch script for `spec`: "#!/bin/bash", the #SBATCH lines, then a body that exits with
// the recorded code when Slurm reruns a job that already finished (SLURM_RESTART_COUNT > 0 and
// the exit-code file exists), exports `env`, cds to work_dir, runs `command` and writes its
// exit code through a temp file and mv. Fails with invalid_input for a value the header cannot
// carry (bad name characters, whitespace or quotes in a path, a relative path, a newline
// anywhere, an empty command, a bad environment name, gpus < 0, array_size < 1).
core::Result<std::string> slurm_batch_script(const SlurmJobSpec& spec);

// {"sbatch", "--parsable", script_path}
std::vector<std::string> sbatch_argv(const std::string& script_path);

// The job id from `sbatch --parsable` output: "123\n" or "123;cluster\n" → "123". Fails with
// remote_failed when the output is not a job id.
core::Result<std::string> parse_sbatch_output(std::string_view output);

// {"scancel", ids...}; an array id cancels every task.
std::vector<std::string> scancel_argv(const std::vector<std::string>& job_ids);

// {"squeue", "--json"}: every job the controller still knows (finished ones for MinJobAge).
// Slurm 22.05 ignores --jobs, --me and other filters together with --json: filter the parsed
// list with slurm_jobs_of().
std::vector<std::string> squeue_argv();

// {"scontrol", "show", "job", id}
std::vector<std::string> scontrol_show_job_argv(const std::string& job_id);

enum class SlurmState {
    pending,
    configuring,
    running,
    completing,
    completed,
    failed,
    cancelled,
    timeout,
    out_of_memory,
    node_fail,
    preempted,
    boot_fail,
    deadline,
    requeued,
    suspended,
    unknown,
};

// What the queue does with a job in a state.
enum class SlurmOutcome {
    active,     // still Slurm's: keep polling (pending, running, requeued, suspended, unknown)
    succeeded,  // COMPLETED
    failed,     // permanent: FAILED, TIMEOUT, OUT_OF_MEMORY, DEADLINE
    cancelled,  // CANCELLED (scancel, or an afterok parent that failed)
    transient,  // NODE_FAIL, PREEMPTED, BOOT_FAIL: the cluster's fault, retry the run
};

// "COMPLETED", "CANCELLED+", "CANCELLED by 0", "requeued" → the state; anything else: unknown.
SlurmState parse_slurm_state(std::string_view text);
std::string_view slurm_state_name(SlurmState state);        // "COMPLETED"
std::string_view slurm_outcome_name(SlurmOutcome outcome);  // "succeeded"
SlurmOutcome slurm_outcome(SlurmState state);

// One job (or one array task) as squeue, scontrol or the jobcomp log reports it.
struct SlurmJobStatus {
    std::string job_id;                // Slurm's own id (each array task has one)
    std::string array_job_id;          // the array's id; empty when not an array task
    std::optional<int> array_task_id;  // empty when not an array task
    SlurmState state = SlurmState::unknown;
    std::string state_name;        // as Slurm printed it
    std::string reason;            // "None", "Priority", "NonZeroExitCode", "TimeLimit"
    std::optional<int> exit_code;  // the batch script's exit code, once finished
    std::optional<int> signal;     // the signal that ended it, when one did
    std::string nodes;
    int restart_count = 0;  // how often Slurm requeued it
    std::string std_out;    // output file (scontrol, squeue)
};

// The outcome of a job and, when it did not succeed, a one-word reason for the run's failure:
// "TIMEOUT", "OUT_OF_MEMORY", "DEADLINE", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "CANCELLED",
// or "exit code N" / "signal N" for FAILED.
struct SlurmVerdict {
    SlurmOutcome outcome = SlurmOutcome::active;
    std::string reason;
};
SlurmVerdict slurm_verdict(const SlurmJobStatus& status);

// Jobs from `squeue --json` (Slurm 22.05: exit_code is a wait status, array_task_id null or a
// number, job_state a string; the object forms of later versions are read too). Fails with
// remote_failed on text that is not squeue's JSON.
core::Result<std::vector<SlurmJobStatus>> parse_squeue_json(std::string_view json_text);

// The records of job `job_id` in `jobs`: the job itself, or every task of the array `job_id`
// (including a still-pending array record, whose array_task_id is empty).
std::vector<SlurmJobStatus> slurm_jobs_of(const std::vector<SlurmJobStatus>& jobs,
                                          const std::string& job_id);

// Records of `scontrol show job ID` (one per array task, separated by blank lines): JobId,
// ArrayJobId, ArrayTaskId, JobState, Reason, ExitCode "3:0", Restarts (or RestartCnt),
// NodeList, StdOut. Fails with remote_failed when no record has a JobId.
core::Result<std::vector<SlurmJobStatus>> parse_scontrol_show_job(std::string_view text);

// One line of the jobcomp/filetxt log ("JobId=5 ... JobState=COMPLETED ... ArrayJobId=2
// ArrayTaskId=1 ... ExitCode=0:0"). Fails with remote_failed without JobId or JobState.
core::Result<SlurmJobStatus> parse_jobcomp_line(std::string_view line);

// {"sacct", "-n", "-P", "-X", "-j", id, "-o", "JobID,State,ExitCode"}: the final state of a job
// the controller has forgotten (MinJobAge passed), where accounting (slurmdbd) exists.
std::vector<std::string> sacct_argv(const std::string& job_id);

// One line of sacct_argv output: "42|TIMEOUT|0:15", "42_3|CANCELLED by 0|0:15". Fails with
// remote_failed on anything else (sacct's "Slurm accounting storage is disabled" included).
core::Result<SlurmJobStatus> parse_sacct_line(std::string_view line);

}  // namespace cosmos::backends

namespace cosmos::backends {

// One node of a partition as `sinfo -N -O NodeHost:|,StateLong:|,Gres:|,GresUsed:|` lists it.
struct SlurmNode {
    std::string name;
    std::string state;  // idle, mixed, allocated, down, drained...
    int gpus = 0;       // configured GPUs (all gpu GRES types)
    int gpus_used = 0;  // allocated now
};

// {"sinfo", "-N", "-h", "-p", partition, "-O", "NodeHost:|,StateLong:|,Gres:|,GresUsed:|"}
std::vector<std::string> sinfo_nodes_argv(const std::string& partition);

// The nodes of `sinfo_nodes_argv` output ("vm|mixed|gpu:4|gpu:a100:2(IDX:0-1)|"); a node
// listed twice (one line per partition) counts once. Lines that do not parse are skipped.
std::vector<SlurmNode> parse_sinfo_nodes(std::string_view text);

// GPUs in a GRES string: "gpu:4" → 4, "gpu:a100:2(IDX:0-1),gpu:v100:1" → 3, "(null)" → 0.
int gres_gpu_count(std::string_view gres);

// One of our jobs in the partition, from `squeue -h -p P -o %i|%j|%T|%r`.
struct SlurmQueueEntry {
    std::string job_id;
    std::string name;    // cosmos-<run or batch id>
    std::string state;   // PENDING, RUNNING...
    std::string reason;  // None, Priority, Resources...
};

std::vector<std::string> squeue_partition_argv(const std::string& partition);

// {"scontrol", "show", "node", name}
std::vector<std::string> scontrol_show_node_argv(const std::string& name);

// The address Slurm reaches a node at (NodeAddr=) in `scontrol show node` output; empty when
// it says none. Used to reach a server a job runs on that node.
std::string parse_node_address(std::string_view text);

// The entries of `squeue_partition_argv` output whose job name starts with "cosmos-".
std::vector<SlurmQueueEntry> parse_squeue_partition(std::string_view text);

}  // namespace cosmos::backends
