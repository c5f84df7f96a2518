// Slurm batch scripts, argv, parsers of squeue/scontrol/sbatch/jobcomp output (captured from
// Slurm 22.05.8 on the test cluster of tests/integration/slurm_cluster.py) and the state mapping.

#include "backends/slurm_job.hpp"

#include <gtest/gtest.h>

namespace cosmos::backends {
namespace {

SlurmJobSpec basic_spec() {
    SlurmJobSpec s;
    s.job_name = "cosmos-run_01";
    s.partition = "gpu";
    s.gpus = 2;
    s.output_path = "/shared/jobs/r1/slurm-%j.out";
    s.work_dir = "/shared/jobs/r1";
    s.command = {"/opt/cosmos/run.sh", "--spec", "/shared/jobs/r1/spec.json"};
    s.exit_code_path = "/shared/jobs/r1/exit_code";
    return s;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(SlurmBatchScript, HeaderCarriesEveryOption) {
    auto spec = basic_spec();
    spec.account = "proj-7";
    spec.time_limit = "1-02:00:00";
    spec.cpus_per_task = 8;
    spec.dependency_afterok = {"41", "42"};
    spec.array_size = 3;
    auto script = slurm_batch_script(spec);
    ASSERT_TRUE(script) << script.error().message;
    EXPECT_EQ(script->rfind("#!/bin/bash\n", 0), 0u);
    for (const char* line : {"#SBATCH --job-name=cosmos-run_01\n",
                             "#SBATCH --partition=gpu\n",
                             "#SBATCH --account=proj-7\n",
                             "#SBATCH --time=1-02:00:00\n",
                             "#SBATCH --gres=gpu:2\n",
                             "#SBATCH --cpus-per-task=8\n",
                             "#SBATCH --output=/shared/jobs/r1/slurm-%j.out\n",
                             "#SBATCH --open-mode=append\n",
                             "#SBATCH --chdir=/shared/jobs/r1\n",
                             "#SBATCH --kill-on-invalid-dep=yes\n",
                             "#SBATCH --dependency=afterok:41:42\n",
                             "#SBATCH --array=0-2\n"}) {
        EXPECT_TRUE(contains(*script, line)) << line << "\n" << *script;
    }
    // each array task has its own exit-code file
    EXPECT_TRUE(contains(*script, "exit_code_file=\"$exit_code_file.${SLURM_ARRAY_TASK_ID}\""));
}

TEST(SlurmBatchScript, OptionalHeaderLinesAreLeftOut) {
    auto spec = basic_spec();
    spec.gpus = 0;
    auto script = slurm_batch_script(spec);
    ASSERT_TRUE(script);
    for (const char* absent : {"--account",
                               "--time",
                               "--gres",
                               "--cpus-per-task",
                               "--dependency",
                               "--array",
                               "SLURM_ARRAY_TASK_ID"}) {
        EXPECT_FALSE(contains(*script, absent)) << absent;
    }
    // header lines come before the first command: sbatch stops reading #SBATCH there
    auto last_header = script->rfind("#SBATCH");
    auto first_command = script->find("exit_code_file=");
    EXPECT_LT(last_header, first_command);
}

TEST(SlurmBatchScript, BodyRunsOnceAndRecordsTheExitCodeAtomically) {
    auto script = slurm_batch_script(basic_spec());
    ASSERT_TRUE(script);
    EXPECT_TRUE(contains(*script, "exit_code_file=/shared/jobs/r1/exit_code\n"));
    EXPECT_TRUE(contains(
        *script, "if [ \"${SLURM_RESTART_COUNT:-0}\" -gt 0 ] && [ -f \"$exit_code_file\" ]"));
    EXPECT_TRUE(contains(*script, "cd /shared/jobs/r1 || exit 1\n"));
    EXPECT_TRUE(
        contains(*script, "/opt/cosmos/run.sh --spec /shared/jobs/r1/spec.json\ncode=$?\n"));
    EXPECT_TRUE(contains(*script,
                         "> \"$exit_code_file.tmp.$$\" && mv -f \"$exit_code_file.tmp.$$\" "
                         "\"$exit_code_file\"\nexit \"$code\"\n"));
}

TEST(SlurmBatchScript, HostileValuesAreQuoted) {
    auto spec = basic_spec();
    spec.command = {"/bin/echo", "it's $(rm -rf /)", "`id`", "a;b|c&d", "$HOME"};
    spec.env = {{"PROMPT", "say \"hi\" $(whoami) 'x'"}, {"EMPTY", ""}};
    spec.exit_code_path = "/shared/odd dir/$(x)/exit";
    auto script = slurm_batch_script(spec);
    ASSERT_TRUE(script) << script.error().message;
    EXPECT_TRUE(contains(*script, "/bin/echo 'it'\\''s $(rm -rf /)' '`id`' 'a;b|c&d' '$HOME'\n"));
    EXPECT_TRUE(contains(*script, "export PROMPT='say \"hi\" $(whoami) '\\''x'\\'''\n"));
    EXPECT_TRUE(contains(*script, "export EMPTY=''\n"));
    EXPECT_TRUE(contains(*script, "exit_code_file='/shared/odd dir/$(x)/exit'\n"));
}

TEST(SlurmBatchScript, RefusesWhatTheHeaderCannotCarry) {
    auto refused = [](auto mutate) {
        auto spec = basic_spec();
        mutate(spec);
        auto r = slurm_batch_script(spec);
        return !r && r.error().code == core::ErrorCode::invalid_input;
    };
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.job_name = "a b"; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.job_name = "x\n#SBATCH --uid=0"; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.job_name = ""; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.job_name = "$(id)"; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.partition = "gpu,cpu"; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.account = "a'b"; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.time_limit = "1h"; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.gpus = -1; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.cpus_per_task = 0; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.array_size = 0; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.output_path = "relative/out"; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.output_path = "/a b/out"; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.output_path = "/a/\"out\""; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.output_path = "/a/out\\%j"; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.output_path = "/a/#out"; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.work_dir = "/a\n#SBATCH --x"; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.exit_code_path = "exit"; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.exit_code_path = "/a\nb"; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.dependency_afterok = {"12:13"}; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.dependency_afterok = {""}; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.command.clear(); }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.command.push_back("two\nlines"); }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.command.push_back("cr\r"); }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.env["BAD-NAME"] = "x"; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.env["1X"] = "x"; }));
    EXPECT_TRUE(refused([](SlurmJobSpec& s) { s.env["X"] = "a\nb"; }));
    EXPECT_FALSE(refused([](SlurmJobSpec& s) { s.dependency_afterok = {"12", "13_4"}; }));
}

TEST(SlurmCommands, Argv) {
    EXPECT_EQ(sbatch_argv("/j/job.sh"),
              (std::vector<std::string>{"sbatch", "--parsable", "/j/job.sh"}));
    EXPECT_EQ(scancel_argv({"5", "7"}), (std::vector<std::string>{"scancel", "5", "7"}));
    EXPECT_EQ(squeue_argv(), (std::vector<std::string>{"squeue", "--json"}));
    EXPECT_EQ(scontrol_show_job_argv("9"),
              (std::vector<std::string>{"scontrol", "show", "job", "9"}));
}

TEST(SlurmCommands, ParsesSbatchOutput) {
    EXPECT_EQ(*parse_sbatch_output("123\n"), "123");
    EXPECT_EQ(*parse_sbatch_output("123;cluster-a\n"), "123");
    EXPECT_EQ(*parse_sbatch_output("sbatch: warning: x\n77\n"), "77");
    for (const char* bad : {"", "\n", "sbatch: error: Batch job submission failed", "12a", ";c"}) {
        auto r = parse_sbatch_output(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, core::ErrorCode::remote_failed);
    }
}

TEST(SlurmState, ParsesNamesAndMapsOutcomes) {
    struct Case {
        const char* text;
        SlurmState state;
        SlurmOutcome outcome;
    };
    const Case cases[] = {
        {"PENDING", SlurmState::pending, SlurmOutcome::active},
        {"CONFIGURING", SlurmState::configuring, SlurmOutcome::active},
        {"RUNNING", SlurmState::running, SlurmOutcome::active},
        {"COMPLETING", SlurmState::completing, SlurmOutcome::active},
        {"COMPLETED", SlurmState::completed, SlurmOutcome::succeeded},
        {"FAILED", SlurmState::failed, SlurmOutcome::failed},
        {"CANCELLED", SlurmState::cancelled, SlurmOutcome::cancelled},
        {"CANCELLED by 0", SlurmState::cancelled, SlurmOutcome::cancelled},
        {"CANCELLED+", SlurmState::cancelled, SlurmOutcome::cancelled},
        {"TIMEOUT", SlurmState::timeout, SlurmOutcome::failed},
        {"OUT_OF_MEMORY", SlurmState::out_of_memory, SlurmOutcome::failed},
        {"NODE_FAIL", SlurmState::node_fail, SlurmOutcome::transient},
        {"PREEMPTED", SlurmState::preempted, SlurmOutcome::transient},
        {"BOOT_FAIL", SlurmState::boot_fail, SlurmOutcome::transient},
        {"DEADLINE", SlurmState::deadline, SlurmOutcome::failed},
        {"REQUEUED", SlurmState::requeued, SlurmOutcome::active},
        {"REQUEUE_HOLD", SlurmState::requeued, SlurmOutcome::active},
        {"SUSPENDED", SlurmState::suspended, SlurmOutcome::active},
        {"running", SlurmState::running, SlurmOutcome::active},
        {"SOMETHING_NEW", SlurmState::unknown, SlurmOutcome::active},
        {"", SlurmState::unknown, SlurmOutcome::active},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(parse_slurm_state(c.text), c.state) << c.text;
        EXPECT_EQ(slurm_outcome(c.state), c.outcome) << c.text;
    }
    EXPECT_EQ(slurm_state_name(SlurmState::out_of_memory), "OUT_OF_MEMORY");
    EXPECT_EQ(parse_slurm_state(slurm_state_name(SlurmState::node_fail)), SlurmState::node_fail);
    EXPECT_EQ(slurm_outcome_name(SlurmOutcome::transient), "transient");
}

TEST(SlurmState, VerdictNamesTheReason) {
    SlurmJobStatus st;
    st.state = SlurmState::timeout;
    st.reason = "TimeLimit";
    auto v = slurm_verdict(st);
    EXPECT_EQ(v.outcome, SlurmOutcome::failed);
    EXPECT_EQ(v.reason, "TIMEOUT");
    st.state = SlurmState::failed;
    st.exit_code = 3;
    EXPECT_EQ(slurm_verdict(st).reason, "exit code 3");
    st.signal = 9;
    EXPECT_EQ(slurm_verdict(st).reason, "signal 9");
    st.state = SlurmState::preempted;
    v = slurm_verdict(st);
    EXPECT_EQ(v.outcome, SlurmOutcome::transient);
    EXPECT_EQ(v.reason, "PREEMPTED");
    st.state = SlurmState::completed;
    v = slurm_verdict(st);
    EXPECT_EQ(v.outcome, SlurmOutcome::succeeded);
    EXPECT_EQ(v.reason, "");
}

// Trimmed from `squeue --json` of Slurm 22.05.8: a failed job (exit 3), an array task, a
// pending array (no task id yet), a running job, and a job killed by signal 9.
constexpr const char* kSqueueJson = R"({
  "meta": {"plugin": {"type": "openapi/v0.0.38"}, "Slurm": {"release": "22.05.8"}},
  "errors": [],
  "jobs": [
    {"job_id": 1, "array_job_id": 0, "array_task_id": null, "array_task_string": "",
     "job_state": "FAILED", "state_reason": "NonZeroExitCode", "exit_code": 768, "nodes": "vm",
     "restart_cnt": 0, "standard_output": "/tmp/o.txt"},
    {"job_id": 4, "array_job_id": 2, "array_task_id": 0, "array_task_string": "",
     "job_state": "COMPLETED", "state_reason": "None", "exit_code": 0, "nodes": "vm",
     "restart_cnt": 0, "standard_output": "/tmp/a%a.txt"},
    {"job_id": 6, "array_job_id": 6, "array_task_id": null, "array_task_string": "0-2",
     "job_state": "PENDING", "state_reason": "Resources", "exit_code": 0, "nodes": "",
     "restart_cnt": 0},
    {"job_id": 3, "array_job_id": 0, "array_task_id": null, "job_state": "RUNNING",
     "state_reason": "None", "exit_code": 0, "nodes": "vm", "restart_cnt": 1},
    {"job_id": 8, "array_job_id": 0, "array_task_id": null, "job_state": "CANCELLED",
     "state_reason": "None", "exit_code": 9, "nodes": "vm", "restart_cnt": 0}
  ]
})";

TEST(SlurmParse, SqueueJson2205) {
    auto jobs = parse_squeue_json(kSqueueJson);
    ASSERT_TRUE(jobs) << jobs.error().message;
    ASSERT_EQ(jobs->size(), 5u);
    const auto& failed = (*jobs)[0];
    EXPECT_EQ(failed.job_id, "1");
    EXPECT_EQ(failed.array_job_id, "");
    EXPECT_FALSE(failed.array_task_id);
    EXPECT_EQ(failed.state, SlurmState::failed);
    EXPECT_EQ(failed.state_name, "FAILED");
    EXPECT_EQ(failed.reason, "NonZeroExitCode");
    EXPECT_EQ(failed.exit_code, 3);
    EXPECT_FALSE(failed.signal);
    EXPECT_EQ(failed.nodes, "vm");
    EXPECT_EQ(failed.std_out, "/tmp/o.txt");
    const auto& task = (*jobs)[1];
    EXPECT_EQ(task.job_id, "4");
    EXPECT_EQ(task.array_job_id, "2");
    EXPECT_EQ(task.array_task_id, 0);
    EXPECT_EQ(task.exit_code, 0);
    const auto& pending = (*jobs)[2];
    EXPECT_EQ(pending.array_job_id, "6");
    EXPECT_FALSE(pending.array_task_id);
    EXPECT_EQ(pending.state, SlurmState::pending);
    EXPECT_FALSE(pending.exit_code);  // not finished: no exit code yet
    EXPECT_EQ((*jobs)[3].restart_count, 1);
    EXPECT_FALSE((*jobs)[3].exit_code);
    EXPECT_EQ((*jobs)[4].signal, 9);
    EXPECT_FALSE((*jobs)[4].exit_code);
}

TEST(SlurmParse, JobsOfAnIdOrAnArray) {
    auto jobs = parse_squeue_json(kSqueueJson);
    ASSERT_TRUE(jobs);
    auto one = slurm_jobs_of(*jobs, "1");
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one[0].state, SlurmState::failed);
    auto array = slurm_jobs_of(*jobs, "2");  // the task with id 4 belongs to array 2
    ASSERT_EQ(array.size(), 1u);
    EXPECT_EQ(array[0].job_id, "4");
    auto pending = slurm_jobs_of(*jobs, "6");
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_FALSE(pending[0].array_task_id);
    EXPECT_TRUE(slurm_jobs_of(*jobs, "99").empty());
    EXPECT_TRUE(slurm_jobs_of(*jobs, "").empty());
}

TEST(SlurmParse, SqueueJsonLaterShapes) {
    auto jobs = parse_squeue_json(R"({"jobs": [
        {"job_id": 12, "array_job_id": {"set": true, "number": 10},
         "array_task_id": {"set": true, "number": 2}, "job_state": ["TIMEOUT"],
         "state_reason": "TimeLimit",
         "exit_code": {"status": ["SIGNALED"], "return_code": {"set": true, "number": 0},
                       "signal": {"id": {"set": true, "number": 15}, "name": "TERM"}}}]})");
    ASSERT_TRUE(jobs) << jobs.error().message;
    ASSERT_EQ(jobs->size(), 1u);
    EXPECT_EQ((*jobs)[0].array_job_id, "10");
    EXPECT_EQ((*jobs)[0].array_task_id, 2);
    EXPECT_EQ((*jobs)[0].state, SlurmState::timeout);
    EXPECT_EQ((*jobs)[0].signal, 15);
    EXPECT_EQ(slurm_verdict((*jobs)[0]).reason, "TIMEOUT");
}

TEST(SlurmParse, SqueueJsonRefusesOtherText) {
    for (const char* bad :
         {"", "not json", "[]", "{\"jobs\": 3}", "squeue: error: Invalid job id specified"}) {
        auto r = parse_squeue_json(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, core::ErrorCode::remote_failed);
    }
    auto empty = parse_squeue_json(R"({"jobs": []})");
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->empty());
}

// `scontrol show job 1` from Slurm 22.05.8 (abridged), then a second record of an array.
constexpr const char* kScontrol = R"(JobId=1 JobName=wrap
   UserId=root(0) GroupId=root(0) MCS_label=N/A
   Priority=4294901759 Nice=0 Account=(null) QOS=(null)
   JobState=FAILED Reason=NonZeroExitCode Dependency=(null)
   Requeue=1 Restarts=2 BatchFlag=1 Reboot=0 ExitCode=3:0
   RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A
   Partition=debug AllocNode:Sid=localhost:28887
   NodeList=vm
   BatchHost=vm
   WorkDir=/work/x
   StdErr=/tmp/o.txt
   StdIn=/dev/null
   StdOut=/tmp/o.txt
   Power=
   TresPerNode=gres:gpu:1

JobId=5 ArrayJobId=2 ArrayTaskId=1 JobName=wrap
   JobState=CANCELLED Reason=Dependency never satisfied ExitCode=0:15
   RestartCnt=0 NodeList=(null)
   StdOut=/tmp/a1.txt

)";

TEST(SlurmParse, ScontrolShowJob) {
    auto jobs = parse_scontrol_show_job(kScontrol);
    ASSERT_TRUE(jobs) << jobs.error().message;
    ASSERT_EQ(jobs->size(), 2u);
    const auto& a = (*jobs)[0];
    EXPECT_EQ(a.job_id, "1");
    EXPECT_EQ(a.state, SlurmState::failed);
    EXPECT_EQ(a.reason, "NonZeroExitCode");
    EXPECT_EQ(a.exit_code, 3);
    EXPECT_FALSE(a.signal);
    EXPECT_EQ(a.restart_count, 2);
    EXPECT_EQ(a.nodes, "vm");
    EXPECT_EQ(a.std_out, "/tmp/o.txt");
    const auto& b = (*jobs)[1];
    EXPECT_EQ(b.job_id, "5");
    EXPECT_EQ(b.array_job_id, "2");
    EXPECT_EQ(b.array_task_id, 1);
    EXPECT_EQ(b.state, SlurmState::cancelled);
    EXPECT_EQ(b.reason, "Dependency never satisfied");  // a value with spaces
    EXPECT_EQ(b.exit_code, 0);
    EXPECT_EQ(b.signal, 15);
    EXPECT_EQ(b.nodes, "");

    auto none = parse_scontrol_show_job("slurm_load_jobs error: Invalid job id specified\n");
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, core::ErrorCode::remote_failed);
}

TEST(SlurmParse, JobcompLine) {
    auto st = parse_jobcomp_line(
        "JobId=5 UserId=root(0) GroupId=root(0) Name=wrap JobState=COMPLETED Partition=debug "
        "TimeLimit=UNLIMITED StartTime=2026-11-30T05:15:59 EndTime=2026-11-30T05:16:00 "
        "NodeList=vm NodeCnt=1 ProcCnt=1 WorkDir=/work/x ReservationName= "
        "Tres=cpu=1,mem=1M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown "
        "SubmitTime=2026-11-30T05:15:57 EligibleTime=2026-11-30T05:15:59 ArrayJobId=2 "
        "ArrayTaskId=1 DerivedExitCode=0:0 ExitCode=0:0 \n");
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(st->job_id, "5");
    EXPECT_EQ(st->array_job_id, "2");
    EXPECT_EQ(st->array_task_id, 1);
    EXPECT_EQ(st->state, SlurmState::completed);
    EXPECT_EQ(st->exit_code, 0);
    EXPECT_EQ(st->nodes, "vm");

    auto failed = parse_jobcomp_line("JobId=1 Name=wrap JobState=FAILED NodeList=vm ExitCode=3:0");
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->exit_code, 3);
    EXPECT_EQ(slurm_verdict(*failed).reason, "exit code 3");

    for (const char* bad : {"", "garbage", "JobId=1 Name=x", "JobState=FAILED"}) {
        auto r = parse_jobcomp_line(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, core::ErrorCode::remote_failed);
    }
}

}  // namespace
}  // namespace cosmos::backends

namespace cosmos::backends {
namespace {

TEST(SlurmParse, SacctLine) {
    auto timeout = parse_sacct_line("42|TIMEOUT|0:15\n");
    ASSERT_TRUE(timeout);
    EXPECT_EQ(timeout->job_id, "42");
    EXPECT_EQ(timeout->state, SlurmState::timeout);
    EXPECT_EQ(timeout->signal, 15);
    auto task = parse_sacct_line("42_3|CANCELLED by 0|0:15");
    ASSERT_TRUE(task);
    EXPECT_EQ(task->job_id, "42_3");
    EXPECT_EQ(task->array_job_id, "42");
    EXPECT_EQ(task->array_task_id, 3);
    EXPECT_EQ(task->state, SlurmState::cancelled);
    auto failed = parse_sacct_line("7|FAILED|2:0");
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->exit_code, 2);
    EXPECT_FALSE(parse_sacct_line("Slurm accounting storage is disabled"));
    EXPECT_FALSE(parse_sacct_line(""));
    EXPECT_EQ(sacct_argv("42_3"),
              (std::vector<std::string>{
                  "sacct", "-n", "-P", "-X", "-j", "42_3", "-o", "JobID,State,ExitCode"}));
}

}  // namespace
}  // namespace cosmos::backends
