// The slurm host kind's runtime (backends/slurm_runtime): the files and commands it builds and
// how it reads what its status command prints (scontrol output captured from Slurm 22.05.8).
// The commands themselves run against a real cluster in tests/integration/test_slurm_backend.py.

#include "backends/slurm_runtime.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace cosmos::backends {
namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

runtime::LaunchRequest request() {
    runtime::LaunchRequest r;
    r.job_id = "rs_0123456789abcdef";
    r.job_dir = "/shared/jobs/rs_0123456789abcdef";
    r.command.argv = {"/opt/cosmos/bin/torchrun",
                      "--nproc_per_node=2",
                      "transfer.py",
                      "--prompt",
                      "it's $(rm -rf /)"};
    r.command.env = {{"CUDA_VISIBLE_DEVICES", "0,1"}, {"PYTHONPATH", "/opt/cosmos"}};
    r.command.cwd = "/opt/cosmos";
    r.gpus = 2;
    return r;
}

SlurmSettings settings(const std::string& partition = "gpu") {
    SlurmSettings s;
    s.partition = partition;
    s.account = "proj";
    s.time_limit = "2:00:00";
    s.cpus_per_task = 16;
    return s;
}

std::unique_ptr<runtime::Runtime> slurm() {
    return make_slurm_runtime(settings());
}

// A slurm host whose jobs run the model in a container of `kind`, its shared dir /shared.
SlurmSettings container_settings(const std::string& kind) {
    SlurmSettings s = settings();
    s.container.kind = *cosmos::core::parse_runtime_kind(kind);
    s.container.image = kind == "docker" ? "nvcr.io/me/cosmos-transfer1:1.0" : "/shared/cosmos.sif";
    s.container.cosmos_dir = "/opt/cosmos";
    s.shared_dir = "/shared";
    return s;
}

// request() as a container sees it: the checkout at /workspace.
runtime::LaunchRequest container_request() {
    auto r = request();
    r.command.argv[0] = "torchrun";
    r.command.env["PYTHONPATH"] = "/workspace";
    r.command.cwd = "/workspace";
    r.checkpoint_dir = "/opt/cosmos/checkpoints";
    r.secret_env = {{"HF_TOKEN", "hf_secret"}};
    return r;
}

std::string script_of(const runtime::Runtime& rt, const runtime::LaunchRequest& r) {
    for (const auto& f : rt.launch_files(r)) {
        if (f.path == r.job_dir + "/job.sbatch") {
            return f.content;
        }
    }
    return {};
}

// scontrol show job output of one job in `state` (as Slurm 22.05 prints it, trimmed).
std::string scontrol(const std::string& state, const std::string& reason, const std::string& exit) {
    return "JobId=42 JobName=cosmos-rs_0123456789abcdef\n   UserId=root(0) GroupId=root(0)\n"
           "   JobState=" +
           state + " Reason=" + reason +
           " Dependency=(null)\n"
           "   Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=" +
           exit +
           "\n"
           "   NodeList=vm\n   StdOut=/shared/jobs/rs_0123456789abcdef/run.log\n";
}

TEST(SlurmRuntime, ScriptRequestsTheJobsGpusAndLeavesDeviceBindingToSlurm) {
    auto rt = slurm();
    auto r = request();
    r.secret_env = {{"HF_TOKEN", "hf_secret"}};
    auto files = rt->launch_files(r);
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[0].path, r.job_dir + "/secret.env");
    EXPECT_EQ(files[0].mode, 0600);
    EXPECT_EQ(files[0].content, "export HF_TOKEN=hf_secret\n");
    const auto& script = files[1].content;
    EXPECT_EQ(files[1].path, r.job_dir + "/job.sbatch");
    EXPECT_TRUE(contains(script, "#SBATCH --job-name=cosmos-rs_0123456789abcdef\n")) << script;
    EXPECT_TRUE(contains(script, "#SBATCH --partition=gpu\n"));
    EXPECT_TRUE(contains(script, "#SBATCH --account=proj\n"));
    EXPECT_TRUE(contains(script, "#SBATCH --time=2:00:00\n"));
    EXPECT_TRUE(contains(script, "#SBATCH --gres=gpu:2\n"));
    EXPECT_TRUE(contains(script, "#SBATCH --cpus-per-task=16\n"));
    EXPECT_TRUE(contains(script, "#SBATCH --output=" + r.job_dir + "/run.log\n"));
    EXPECT_TRUE(contains(script, "#SBATCH --chdir=/opt/cosmos\n"));
    EXPECT_FALSE(contains(script, "CUDA_VISIBLE_DEVICES"));
    EXPECT_FALSE(contains(script, "hf_secret"));  // only in the 0600 file it sources
    EXPECT_TRUE(
        contains(script, ". " + r.job_dir + "/secret.env; rm -f " + r.job_dir + "/secret.env"));
    EXPECT_TRUE(contains(script, "--prompt 'it'\\''s $(rm -rf /)'\n"))
        << script;  // quoted, never run
}

TEST(SlurmRuntime, CommandsTakeTheJobDirAsAnArgument) {
    auto rt = slurm();
    auto r = request();
    for (const auto& argv : {rt->launch_command(r),
                             rt->status_command(r),
                             rt->kill_command(r),
                             rt->follow_log_command(r)}) {
        ASSERT_GE(argv.size(), 5u);
        EXPECT_EQ(argv[0], "sh");
        EXPECT_EQ(argv.back(), r.job_dir);
        EXPECT_FALSE(contains(argv[2], r.job_dir));  // the script text is constant
    }
    EXPECT_TRUE(contains(rt->launch_command(r)[2], "sbatch --parsable \"$script\""));
    EXPECT_EQ(rt->launch_command(r)[4], r.job_dir + "/job.sbatch");
    EXPECT_TRUE(contains(rt->kill_command(r)[2], "scancel"));
    EXPECT_EQ(rt->log_path(r), r.job_dir + "/run.log");
    EXPECT_EQ(rt->name(), "slurm");
}

TEST(SlurmRuntime, ScriptThatCannotBeWrittenIsRefusedBeforeSbatch) {
    auto rt = make_slurm_runtime(settings("gpu partition"));  // whitespace in a header value
    auto r = request();
    auto files = rt->launch_files(r);
    for (const auto& f : files) {
        EXPECT_NE(f.path, r.job_dir + "/job.sbatch");
    }
    auto argv = rt->launch_command(r);
    ASSERT_EQ(argv.size(), 6u);
    EXPECT_TRUE(contains(argv[5], "partition")) << argv[5];
    EXPECT_FALSE(contains(argv[2], "sbatch"));
}

TEST(SlurmRuntime, StatusBeforeSubmissionAndFromTheRecordedExitCode) {
    auto rt = slurm();
    auto absent = rt->parse_status(0, "absent\n");
    ASSERT_TRUE(absent);
    EXPECT_EQ(absent->state, runtime::ProcessState::absent);
    auto done = rt->parse_status(0, "exited 0\n");
    ASSERT_TRUE(done);
    EXPECT_EQ(done->state, runtime::ProcessState::exited);
    EXPECT_EQ(done->exit_code, 0);
    EXPECT_TRUE(done->reason.empty());
}

TEST(SlurmRuntime, PendingAndRunningJobsAreRunningWithTheirReason) {
    auto rt = slurm();
    auto pending = rt->parse_status(0, "slurm 42\n" + scontrol("PENDING", "Resources", "0:0"));
    ASSERT_TRUE(pending) << pending.error().message;
    EXPECT_EQ(pending->state, runtime::ProcessState::running);
    EXPECT_EQ(pending->reason, "PENDING (Resources)");
    auto running = rt->parse_status(0, "slurm 42\n" + scontrol("RUNNING", "None", "0:0"));
    ASSERT_TRUE(running);
    EXPECT_EQ(running->state, runtime::ProcessState::running);
    EXPECT_EQ(running->reason, "RUNNING");
}

TEST(SlurmRuntime, TimeLimitAddsItsReasonToTheRecordedCode) {
    auto rt = slurm();
    auto timed =
        rt->parse_status(0, "exited 143\nslurm 42\n" + scontrol("TIMEOUT", "TimeLimit", "0:15"));
    ASSERT_TRUE(timed) << timed.error().message;
    EXPECT_EQ(timed->state, runtime::ProcessState::exited);
    EXPECT_EQ(timed->exit_code, 143);
    EXPECT_EQ(timed->reason, "TIMEOUT");
    EXPECT_FALSE(timed->transient);
    // Killed before the script could record anything.
    auto killed = rt->parse_status(0, "slurm 42\n" + scontrol("TIMEOUT", "TimeLimit", "0:15"));
    ASSERT_TRUE(killed);
    EXPECT_EQ(killed->state, runtime::ProcessState::exited);
    EXPECT_NE(killed->exit_code, 0);
    EXPECT_EQ(killed->reason, "TIMEOUT");
    // A model failure is the model's: its own code, no scheduler reason.
    auto failed =
        rt->parse_status(0, "exited 1\nslurm 42\n" + scontrol("FAILED", "NonZeroExitCode", "1:0"));
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->exit_code, 1);
    EXPECT_TRUE(failed->reason.empty()) << failed->reason;
}

TEST(SlurmRuntime, NodeFailureIsTransient) {
    auto rt = slurm();
    auto node = rt->parse_status(0, "slurm 42\n" + scontrol("NODE_FAIL", "NodeDown", "0:0"));
    ASSERT_TRUE(node);
    EXPECT_EQ(node->state, runtime::ProcessState::exited);
    EXPECT_TRUE(node->transient);
    EXPECT_EQ(node->reason, "NODE_FAIL");
    auto preempted = rt->parse_status(0, "slurm 42\n" + scontrol("PREEMPTED", "None", "0:15"));
    ASSERT_TRUE(preempted);
    EXPECT_TRUE(preempted->transient);
}

TEST(SlurmRuntime, ForgottenJobAndUnreachableController) {
    auto rt = slurm();
    auto gone = rt->parse_status(0, "slurm 42\nslurm_load_jobs error: Invalid job id specified\n");
    ASSERT_TRUE(gone);
    EXPECT_EQ(gone->state, runtime::ProcessState::exited);
    EXPECT_EQ(gone->exit_code, -1);
    EXPECT_TRUE(contains(gone->reason, "Slurm job 42 ended without recording an exit code"));
    // Where accounting exists, sacct says how a forgotten job ended: a node failure is retried.
    auto node = rt->parse_status(0,
                                 "slurm 42_1\nslurm_load_jobs error: Invalid job id "
                                 "specified\nsacct\n42_0|COMPLETED|0:0\n42_1|NODE_FAIL|0:0\n");
    ASSERT_TRUE(node);
    EXPECT_EQ(node->state, runtime::ProcessState::exited);
    EXPECT_TRUE(node->transient);
    EXPECT_EQ(node->reason, "NODE_FAIL");
    auto timeout = rt->parse_status(
        0, "slurm 42\nslurm_load_jobs error: Invalid job id specified\nsacct\n42|TIMEOUT|0:15\n");
    ASSERT_TRUE(timeout);
    EXPECT_FALSE(timeout->transient);
    EXPECT_TRUE(contains(timeout->reason, "TIMEOUT")) << timeout->reason;
    auto down = rt->parse_status(
        0,
        "slurm 42\nslurm_load_jobs error: Unable to contact slurm controller (connect failure)\n");
    ASSERT_FALSE(down);  // unknown is not "ended": the watcher asks again
    EXPECT_EQ(down.error().code, core::ErrorCode::remote_failed);
}

TEST(SlurmStatus, SinfoNodesAndGpuCounts) {
    EXPECT_EQ(gres_gpu_count("gpu:4"), 4);
    EXPECT_EQ(gres_gpu_count("gpu:a100:2(IDX:0-1),gpu:v100:1(IDX:3)"), 3);
    EXPECT_EQ(gres_gpu_count("gpu:a100:8(S:0-1)"), 8);
    EXPECT_EQ(gres_gpu_count("(null)"), 0);
    EXPECT_EQ(gres_gpu_count("gpu:0"), 0);
    auto nodes = parse_sinfo_nodes(
        "vm|mixed|gpu:4|gpu:2|\nn2|drained|gpu:a100:8(S:0-1)|gpu:a100:0|\n"
        "vm|mixed|gpu:4|gpu:2|\ngarbage\n");
    ASSERT_EQ(nodes.size(), 2u);
    EXPECT_EQ(nodes[0].name, "vm");
    EXPECT_EQ(nodes[0].state, "mixed");
    EXPECT_EQ(nodes[0].gpus, 4);
    EXPECT_EQ(nodes[0].gpus_used, 2);
    EXPECT_EQ(nodes[1].gpus, 8);
    EXPECT_EQ(nodes[1].gpus_used, 0);
    auto jobs = parse_squeue_partition(
        "41|cosmos-rs_1|RUNNING|None\n42|someone-else|PENDING|Priority\n"
        "43|cosmos-bat_2|PENDING|Resources\n");
    ASSERT_EQ(jobs.size(), 2u);
    EXPECT_EQ(jobs[0].job_id, "41");
    EXPECT_EQ(jobs[1].name, "cosmos-bat_2");
    EXPECT_EQ(jobs[1].reason, "Resources");
}

// A server job's node address, as Slurm 22.05 prints it; nothing that could bend a URL.
TEST(SlurmParsers, NodeAddressComesFromScontrolShowNode) {
    EXPECT_EQ(parse_node_address("NodeName=vm Arch=x86_64 CoresPerSocket=1 \n"
                                 "   CPUAlloc=1 CPUEfctv=8 CPUTot=8 CPULoad=0.41\n"
                                 "   NodeAddr=10.1.2.3 NodeHostName=vm Version=22.05.8\n"),
              "10.1.2.3");
    EXPECT_EQ(parse_node_address("NodeName=n1 NodeAddr=n1.cluster NodeHostName=n1"), "n1.cluster");
    EXPECT_EQ(parse_node_address("NodeName=n1 XNodeAddr=evil NodeHostName=n1"), "");
    EXPECT_EQ(parse_node_address("NodeName=n1 NodeAddr=a/b@c NodeHostName=n1"), "");
    EXPECT_EQ(parse_node_address("Node n1 not found"), "");
    EXPECT_EQ(scontrol_show_node_argv("n1"),
              (std::vector<std::string>{"scontrol", "show", "node", "n1"}));
}

}  // namespace
}  // namespace cosmos::backends

namespace cosmos::backends {
namespace {

// apptainer: the job runs `apptainer exec` in the foreground (a child of the job, so Slurm's
// signals and cgroup reach it); the GPUs and secrets arrive through the inherited environment.
TEST(SlurmContainers, ApptainerJobRunsTheModelInApptainerExec) {
    auto rt = make_slurm_runtime(container_settings("apptainer"));
    auto r = container_request();
    auto script = script_of(*rt, r);
    EXPECT_TRUE(contains(script, "#SBATCH --chdir=" + r.job_dir + "\n"))
        << script;  // not /workspace
    EXPECT_TRUE(
        contains(script,
                 "apptainer exec --nv --bind /opt/cosmos:/workspace "
                 "--bind /opt/cosmos/checkpoints:/opt/cosmos/checkpoints --bind /shared:/shared "
                 "--pwd /workspace --env PYTHONPATH=/workspace /shared/cosmos.sif torchrun "
                 "--nproc_per_node=2 transfer.py --prompt 'it'\\''s $(rm -rf /)'\n"))
        << script;
    EXPECT_FALSE(contains(script, "hf_secret"));
    EXPECT_FALSE(contains(script, "CUDA_VISIBLE_DEVICES"));
}

// docker: the script hands the container name, the --gpus value and the docker CLI to a
// constant wrapper; environment names (never values) and mounts of the checkout, checkpoints
// and shared dir follow.
TEST(SlurmContainers, DockerJobPassesNamesNotValuesToDockerRun) {
    auto rt = make_slurm_runtime(container_settings("docker"));
    auto r = container_request();
    auto script = script_of(*rt, r);
    EXPECT_TRUE(contains(script, "#SBATCH --chdir=" + r.job_dir + "\n")) << script;
    EXPECT_TRUE(
        contains(script,
                 "bash " + r.job_dir +
                     "/cosmos-docker.sh cosmos-rs_0123456789abcdef all 1 docker --ipc=host "
                     "--shm-size=8g -v /opt/cosmos:/workspace "
                     "-v /opt/cosmos/checkpoints:/opt/cosmos/checkpoints -v /shared:/shared "
                     "-w /workspace -e PYTHONPATH=/workspace -e HF_TOKEN "
                     "nvcr.io/me/cosmos-transfer1:1.0 sh -c "))
        << script;
    EXPECT_FALSE(contains(script, "hf_secret"));
    EXPECT_FALSE(contains(script, "CUDA_VISIBLE_DEVICES=0,1"));
}

// The docker job script run by bash as Slurm would run it, with a docker CLI that records its
// arguments: the secret reaches docker's environment (not its argv), the GPUs Slurm allocated
// become --gpus '"device=1,3"' (or CUDA_VISIBLE_DEVICES without an NVIDIA runtime), hostile
// prompt text arrives intact, and the model's exit code is the job's and is recorded.
TEST(SlurmContainers, DockerJobScriptMapsSlurmsGpusAndRecordsTheExitCode) {
    cosmos::test::TempDir tmp;
    auto fake = tmp.write("docker",
                          "#!/bin/sh\n"
                          "[ \"$1\" = inspect ] && exit 1\n"
                          "printf '%s\\n' \"$@\" > \"$(dirname \"$0\")/args\"\n"
                          "printf 'HF_TOKEN=%s\\n' \"$HF_TOKEN\" > \"$(dirname \"$0\")/env\"\n"
                          "exit 7\n");
    std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
    for (const std::string flag : {"all", ""}) {
        auto settings = container_settings("docker");
        settings.container.docker = fake.string();
        settings.container.gpus_flag = flag;
        auto rt = make_slurm_runtime(settings);
        auto r = container_request();
        r.job_dir = (tmp / ("job" + flag)).string();
        std::filesystem::create_directories(r.job_dir);
        for (const auto& f : rt->launch_files(r)) {
            std::ofstream(f.path) << f.content;
        }
        auto ran = cosmos::test::run_command({"bash", r.job_dir + "/job.sbatch"},
                                             {{"SLURM_JOB_GPUS", "1,3"}, {"SLURM_JOB_ID", ""}});
        EXPECT_EQ(ran.exit_code, 7) << ran.out;
        EXPECT_EQ(cosmos::test::read_file(r.job_dir + "/exit_code"), "7\n");
        EXPECT_FALSE(std::filesystem::exists(r.job_dir + "/secret.env"));
        auto args = cosmos::test::read_file(tmp / "args");
        EXPECT_TRUE(
            contains(args, "run\n--rm\n--name\ncosmos-rs_0123456789abcdef\n--sig-proxy=false\n"))
            << args;
        if (flag.empty()) {
            EXPECT_TRUE(contains(args, "\n-e\nCUDA_VISIBLE_DEVICES=1,3\n")) << args;
            EXPECT_FALSE(contains(args, "--gpus"));
        } else {
            EXPECT_TRUE(contains(args, "\n--gpus\n\"device=1,3\"\n")) << args;
        }
        EXPECT_TRUE(contains(args, "\nit's $(rm -rf /)\n")) << args;
        EXPECT_FALSE(contains(args, "hf_secret"));
        EXPECT_EQ(cosmos::test::read_file(tmp / "env"), "HF_TOKEN=hf_secret\n");
    }
}

}  // namespace
}  // namespace cosmos::backends
