// The batch script of slurm_job.hpp run for real: by bash with a simulated requeue
// (SLURM_RESTART_COUNT=1 after a finished run: the command must not run again), and, when a
// Slurm cluster is reachable, through sbatch with a hostile argument and a non-zero exit code,
// tracked with squeue --json and scontrol until Slurm reports it failed with that code.
//
// The Slurm part starts nothing: it runs when `sinfo` answers with the environment's
// SLURM_CONF, e.g. under the test cluster of tests/integration/slurm_cluster.py:
//   python3 tests/integration/slurm_cluster.py -- build/tests/cosmos_unit_tests
//       --gtest_filter='SlurmSubmit*'       (one command line)

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "backends/slurm_job.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "transport/local_process.hpp"

namespace cosmos::backends {
namespace {

namespace fs = std::filesystem;

using test::Ran;

Ran run(const std::vector<std::string>& argv, std::map<std::string, std::string> env = {}) {
    return test::run_command(argv, env);
}

// A command that appends to a counter file, records a hostile argument and exits 7.
SlurmJobSpec hostile_spec(const fs::path& dir) {
    SlurmJobSpec spec;
    spec.job_name = "cosmos-test";
    spec.partition = "debug";
    spec.gpus = 1;
    spec.output_path = (dir / "slurm-%j.out").string();
    spec.work_dir = dir.string();
    spec.exit_code_path = (dir / "exit code").string();
    spec.env = {{"COSMOS_HOSTILE", "a'b $(touch pwned-env) `id`"}};
    spec.command = {"/bin/sh",
                    "-c",
                    "echo run >> runs; printf '%s|%s' \"$1\" \"$COSMOS_HOSTILE\" > arg.txt; exit 7",
                    "sh",
                    "it's \"$(touch pwned)\" `touch pwned2`; $HOME"};
    return spec;
}

void check_hostile_run(const fs::path& dir) {
    EXPECT_EQ(test::read_file(dir / "arg.txt"),
              "it's \"$(touch pwned)\" `touch pwned2`; $HOME|a'b $(touch pwned-env) `id`");
    EXPECT_FALSE(fs::exists(dir / "pwned"));
    EXPECT_FALSE(fs::exists(dir / "pwned2"));
    EXPECT_FALSE(fs::exists(dir / "pwned-env"));
    EXPECT_EQ(test::read_file(dir / "exit code"), "7\n");
    EXPECT_EQ(test::read_file(dir / "runs"), "run\n");
}

TEST(SlurmSubmitScript, RunsOnceEvenWhenRestarted) {
    test::TempDir dir;
    auto script = slurm_batch_script(hostile_spec(dir.path()));
    ASSERT_TRUE(script) << script.error().message;
    auto path = dir.write("job.sh", *script);
    auto first = run({"bash", path.string()});
    EXPECT_EQ(first.exit_code, 7) << first.out;
    check_hostile_run(dir.path());
    // Slurm requeued the finished job: the rerun exits with the recorded code, runs nothing
    auto again = run({"bash", path.string()}, {{"SLURM_RESTART_COUNT", "1"}});
    EXPECT_EQ(again.exit_code, 7) << again.out;
    EXPECT_NE(again.out.find("not running it again"), std::string::npos) << again.out;
    EXPECT_EQ(test::read_file(dir / "runs"), "run\n");
    // a restart of a run that never finished (no exit-code file) runs the command
    fs::remove(dir / "exit code");
    auto resumed = run({"bash", path.string()}, {{"SLURM_RESTART_COUNT", "1"}});
    EXPECT_EQ(resumed.exit_code, 7);
    EXPECT_EQ(test::read_file(dir / "runs"), "run\nrun\n");
    EXPECT_EQ(test::read_file(dir / "exit code"), "7\n");
}

// Polls squeue --json until job `job_id` has a final outcome; the last record seen (or none).
std::optional<SlurmJobStatus> wait_until_finished(const std::string& job_id,
                                                  std::chrono::seconds timeout) {
    std::optional<SlurmJobStatus> last;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        auto out = run(squeue_argv());
        auto jobs = parse_squeue_json(out.out);
        if (out.exit_code != 0 || !jobs) {
            ADD_FAILURE() << "squeue --json: " << out.out;
            return last;
        }
        for (const auto& j : *jobs) {
            if (j.job_id == job_id) {
                last = j;
            }
        }
        if (last && slurm_outcome(last->state) != SlurmOutcome::active) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return last;
}

std::string first_partition() {
    std::istringstream lines(run({"sinfo", "-h", "-o", "%R"}).out);
    std::string partition;
    std::getline(lines, partition);
    return partition;
}

bool slurm_reachable() {
    if (std::getenv("SLURM_CONF") == nullptr) {
        return false;
    }
    auto r = run({"sinfo", "-h", "-o", "%T"});
    return r.exit_code == 0;
}

TEST(SlurmSubmit, HostileArgumentsAndExitCodeThroughSlurm) {
    if (!slurm_reachable()) {
        GTEST_SKIP() << "no Slurm cluster (set SLURM_CONF; see tests/integration/slurm_cluster.py)";
    }
    test::TempDir dir;
    auto spec = hostile_spec(dir.path());
    spec.partition = first_partition();
    auto script = slurm_batch_script(spec);
    ASSERT_TRUE(script) << script.error().message;
    auto path = dir.write("job.sh", *script);

    auto submitted = run(sbatch_argv(path.string()));
    ASSERT_EQ(submitted.exit_code, 0) << submitted.out;
    auto job_id = parse_sbatch_output(submitted.out);
    ASSERT_TRUE(job_id) << job_id.error().message;

    auto last = wait_until_finished(*job_id, std::chrono::seconds(90));
    ASSERT_TRUE(last) << "job " << *job_id << " never appeared in squeue";
    EXPECT_EQ(last->state, SlurmState::failed) << last->state_name;
    EXPECT_EQ(last->exit_code, 7);
    auto verdict = slurm_verdict(*last);
    EXPECT_EQ(verdict.outcome, SlurmOutcome::failed);
    EXPECT_EQ(verdict.reason, "exit code 7");
    check_hostile_run(dir.path());

    auto shown = run(scontrol_show_job_argv(*job_id));
    ASSERT_EQ(shown.exit_code, 0) << shown.out;
    auto records = parse_scontrol_show_job(shown.out);
    ASSERT_TRUE(records) << records.error().message;
    ASSERT_EQ(records->size(), 1u);
    EXPECT_EQ((*records)[0].state, SlurmState::failed);
    EXPECT_EQ((*records)[0].exit_code, 7);
    EXPECT_EQ((*records)[0].restart_count, 0);
    EXPECT_EQ((*records)[0].std_out, (dir / ("slurm-" + *job_id + ".out")).string());
}

// Slow (Slurm holds a requeued job about 2 minutes; a 1-minute time limit ends after ~75 s),
// so both jobs run side by side.
TEST(SlurmSubmit, RequeuedJobDoesNotRunTwiceAndTimeLimitEndsInTimeout) {
    if (!slurm_reachable()) {
        GTEST_SKIP() << "no Slurm cluster (set SLURM_CONF; see tests/integration/slurm_cluster.py)";
    }
    test::TempDir dir;
    auto once = hostile_spec(dir.path());
    once.partition = first_partition();
    auto slow = once;
    slow.job_name = "cosmos-slow";
    slow.time_limit = "1";
    slow.output_path = (dir / "slow-%j.out").string();
    slow.exit_code_path = (dir / "slow-exit").string();
    slow.command = {"sleep", "300"};
    auto once_script = slurm_batch_script(once);
    auto slow_script = slurm_batch_script(slow);
    ASSERT_TRUE(once_script && slow_script);
    auto submitted_slow = run(sbatch_argv(dir.write("slow.sh", *slow_script).string()));
    auto submitted = run(sbatch_argv(dir.write("job.sh", *once_script).string()));
    auto slow_id = parse_sbatch_output(submitted_slow.out);
    auto job_id = parse_sbatch_output(submitted.out);
    ASSERT_TRUE(slow_id && job_id) << submitted_slow.out << submitted.out;

    auto first = wait_until_finished(*job_id, std::chrono::seconds(60));
    ASSERT_TRUE(first && first->state == SlurmState::failed);
    auto requeue = run({"scontrol", "requeue", *job_id});
    ASSERT_EQ(requeue.exit_code, 0) << requeue.out;
    std::optional<SlurmJobStatus> again;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(240);
    while (std::chrono::steady_clock::now() < deadline) {
        again = wait_until_finished(*job_id, std::chrono::seconds(10));
        if (again && again->restart_count > 0 &&
            slurm_outcome(again->state) != SlurmOutcome::active) {
            break;
        }
    }
    ASSERT_TRUE(again);
    EXPECT_EQ(again->restart_count, 1);
    EXPECT_EQ(again->state, SlurmState::failed) << again->state_name;
    EXPECT_EQ(again->exit_code, 7);  // the recorded code, not a new run
    check_hostile_run(dir.path());   // "runs" still holds one line
    auto log = test::read_file(dir / ("slurm-" + *job_id + ".out"));
    EXPECT_NE(log.find("not running it again"), std::string::npos) << log;

    auto timed_out = wait_until_finished(*slow_id, std::chrono::seconds(150));
    ASSERT_TRUE(timed_out);
    EXPECT_EQ(timed_out->state, SlurmState::timeout) << timed_out->state_name;
    auto verdict = slurm_verdict(*timed_out);
    EXPECT_EQ(verdict.outcome, SlurmOutcome::failed);
    EXPECT_EQ(verdict.reason, "TIMEOUT");
    EXPECT_FALSE(fs::exists(dir / "slow-exit"));  // killed: no exit code recorded
}

}  // namespace
}  // namespace cosmos::backends
