// The native runtime for real on this machine: its commands run through sh exactly as a backend
// runs them on a host, against the emulator laid out as a Cosmos checkout. Launch returns at
// once, the job outlives its launcher, status/follow/kill behave as documented, secrets never
// reach a process list or the log, and hostile values stay inert.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <signal.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "media/scaled_clip.hpp"
#include "media/synthetic.hpp"
#include "model/enhance_command.hpp"
#include "model/transfer_command.hpp"
#include "runtime/runtime.hpp"
#include "services/emulator_install.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "transport/local_process.hpp"

namespace fs = std::filesystem;
using namespace cosmos::runtime;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

const std::string k_secret = "hf_SeCrEt0123456789abcdefXYZ";

using cosmos::test::Ran;
using cosmos::test::read_file;

Ran run(const std::vector<std::string>& argv) {
    Ran r = cosmos::test::run_command(argv);
    EXPECT_TRUE(r.started) << r.out;
    return r;
}

void write_files(const Runtime& rt, const LaunchRequest& req) {
    for (const auto& f : rt.launch_files(req)) {
        std::ofstream(f.path, std::ios::binary) << f.content;
        fs::permissions(f.path, static_cast<fs::perms>(f.mode));
    }
}

Observed status(const Runtime& rt, const LaunchRequest& req) {
    auto ran = run(rt.status_command(req));
    auto parsed = rt.parse_status(ran.exit_code, ran.out);
    EXPECT_TRUE(parsed.has_value()) << ran.out;
    return parsed.value_or(Observed{});
}

// The processes of process group `pgid` that have not exited (zombies waiting for their
// parent or init to reap them do not count).
int live_in_group(int pgid) {
    int live = 0;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        std::string stat = read_file(entry.path() / "stat");
        auto close = stat.rfind(')');
        if (close == std::string::npos) {
            continue;
        }
        std::istringstream fields(stat.substr(close + 2));
        char state = 0;
        int ppid = 0;
        int pgrp = 0;
        fields >> state >> ppid >> pgrp;
        live += pgrp == pgid && state != 'Z' ? 1 : 0;
    }
    return live;
}

// Polls the status until it leaves `running` or `limit` passes.
Observed wait_end(const Runtime& rt, const LaunchRequest& req, std::chrono::seconds limit) {
    auto until = Clock::now() + limit;
    Observed o = status(rt, req);
    while (o.state == ProcessState::running && Clock::now() < until) {
        std::this_thread::sleep_for(100ms);
        o = status(rt, req);
    }
    return o;
}

class NativeRuntimeTest : public ::testing::Test {
protected:
    void SetUp() override {
        checkout = tmp / "cosmos checkout";
        ASSERT_TRUE(cosmos::services::install_emulator(checkout, COSMOS_EMULATOR_PATH));
        job = tmp / ("job dir 'q' \"dq\" $(touch " + pwned().string() + ")");
        fs::create_directories(job / "outputs");
        cosmos::media::SyntheticVideo v;
        v.width = 320;
        v.height = 176;
        v.frames = 9;
        ASSERT_TRUE(cosmos::media::write_synthetic_video(job / "input.mp4", v));
        nlohmann::json spec = {{"prompt", "A red ball on wet grass"},
                               {"input_video_path", (job / "input.mp4").string()},
                               {"edge", {{"control_weight", 0.5}}}};
        std::ofstream(job / "spec.json") << spec.dump();
        rt = std::move(*make_runtime({}));
    }

    fs::path pwned() const { return tmp / "pwned"; }

    LaunchRequest request(const std::map<std::string, std::string>& emulator_env) const {
        cosmos::model::TransferCommandInput in;
        in.torchrun = (checkout / "bin/torchrun").string();
        in.cosmos_dir = checkout.string();
        in.checkpoint_dir = (checkout / "checkpoints").string();
        in.spec_path = (job / "spec.json").string();
        in.output_dir = (job / "outputs").string();
        LaunchRequest req;
        req.job_id = "run_e2e";
        req.job_dir = job.string();
        req.command = cosmos::model::transfer_command(in);
        req.command.env.insert(emulator_env.begin(), emulator_env.end());
        req.command.env["COSMOS_EMULATOR_RECORD"] = (job / "record.jsonl").string();
        req.command.env["COSMOS_TEST_HOSTILE"] =
            "$(touch " + pwned().string() + ")\n'\"`touch " + pwned().string() + "`";
        req.checkpoint_dir = in.checkpoint_dir;
        req.secret_env = {{"HF_TOKEN", k_secret}};
        return req;
    }

    cosmos::test::TempDir tmp;
    fs::path checkout;
    fs::path job;
    std::unique_ptr<Runtime> rt;
};

}  // namespace

TEST_F(NativeRuntimeTest, RunsDetachedFollowsToTheEndAndKeepsTheSecretHidden) {
    auto req = request({{"COSMOS_EMULATOR_TIME_SCALE", "1"},
                        {"COSMOS_EMULATOR_LOAD_SECONDS", "4"},
                        {"COSMOS_EMULATOR_STEP_SECONDS", "0.01"}});
    ASSERT_TRUE(validate_request({}, req).has_value());
    write_files(*rt, req);

    auto t0 = Clock::now();
    auto launched = run(rt->launch_command(req));
    ASSERT_EQ(launched.exit_code, 0) << launched.out;
    EXPECT_LT(Clock::now() - t0, 3s);  // returns at once, while the model is still loading
    EXPECT_FALSE(fs::exists(job / "secret.env"));
    EXPECT_EQ(status(*rt, req).state, ProcessState::running) << read_file(rt->log_path(req));

    auto ps = run({"ps", "-eww", "-o", "args"});
    EXPECT_NE(ps.out.find("transfer.py --checkpoint_dir"), std::string::npos);
    EXPECT_EQ(ps.out.find(k_secret), std::string::npos);

    // A second launch of the same job is refused while it runs.
    write_files(*rt, req);
    auto again = run(rt->launch_command(req));
    EXPECT_NE(again.exit_code, 0);
    EXPECT_NE(again.out.find("already running"), std::string::npos) << again.out;
    EXPECT_FALSE(fs::exists(job / "secret.env"));

    auto followed = run(rt->follow_log_command(req));
    EXPECT_EQ(followed.exit_code, 0);
    EXPECT_NE(followed.out.find("Model loaded in"), std::string::npos)
        << followed.out << read_file(rt->log_path(req));
    EXPECT_NE(followed.out.find("Saved video to"), std::string::npos) << followed.out;
    EXPECT_NE(followed.out.find("Saved prompt to"), std::string::npos) << followed.out;

    Observed end = wait_end(*rt, req, 10s);
    EXPECT_EQ(end.state, ProcessState::exited);
    EXPECT_EQ(end.exit_code, 0);
    EXPECT_GT(fs::file_size(job / "outputs/output.mp4"), 0u);
    std::string log = read_file(rt->log_path(req));
    EXPECT_NE(log.find("Saved video to"), std::string::npos);
    EXPECT_EQ(log.find(k_secret), std::string::npos);
    EXPECT_NE(read_file(job / "record.jsonl").find(R"("HF_TOKEN":"yes")"), std::string::npos)
        << read_file(job / "record.jsonl");  // the secret did reach the model
    EXPECT_FALSE(fs::exists(pwned()));

    // Following a finished job prints the whole log and ends.
    auto late = run(rt->follow_log_command(req));
    std::erase(log, '\r');  // run_process also ends lines at '\r' (progress bars)
    EXPECT_EQ(late.out, log);
    EXPECT_EQ(run(rt->cleanup_command(req)).exit_code, 0);
}

TEST_F(NativeRuntimeTest, KillEndsTheProcessTreeWithinFiveSeconds) {
    auto req =
        request({{"COSMOS_EMULATOR_TIME_SCALE", "1"}, {"COSMOS_EMULATOR_LOAD_SECONDS", "60"}});
    write_files(*rt, req);
    ASSERT_EQ(run(rt->launch_command(req)).exit_code, 0);
    ASSERT_EQ(status(*rt, req).state, ProcessState::running);
    int pid = std::stoi(read_file(job / "pid"));
    std::this_thread::sleep_for(300ms);

    auto t0 = Clock::now();
    EXPECT_EQ(run(rt->kill_command(req)).exit_code, 0);
    EXPECT_LT(Clock::now() - t0, 5s);
    EXPECT_EQ(live_in_group(pid), 0);  // no process of the group is left
    Observed o = status(*rt, req);
    EXPECT_EQ(o.state, ProcessState::exited);
    EXPECT_EQ(o.exit_code, 143);                         // the emulator exits 143 on SIGTERM
    EXPECT_EQ(run(rt->kill_command(req)).exit_code, 0);  // already gone: still 0
    EXPECT_FALSE(fs::exists(job / "outputs/output.mp4"));
}

TEST_F(NativeRuntimeTest, KillEscalatesToSigkillForATreeThatIgnoresSigterm) {
    auto req = request({});
    req.command.argv = {"/bin/sh", "-c", "trap '' TERM; sleep 60 & sleep 60; wait"};
    write_files(*rt, req);
    ASSERT_EQ(run(rt->launch_command(req)).exit_code, 0);
    int pid = std::stoi(read_file(job / "pid"));
    std::this_thread::sleep_for(200ms);
    auto t0 = Clock::now();
    EXPECT_EQ(run(rt->kill_command(req)).exit_code, 0);
    EXPECT_LT(Clock::now() - t0, 5s);
    EXPECT_EQ(live_in_group(pid), 0);
    Observed o = status(*rt, req);
    EXPECT_EQ(o.state, ProcessState::exited);
    EXPECT_EQ(o.exit_code, 137);
}

TEST_F(NativeRuntimeTest, HostileArgumentsAndEnvironmentArriveIntact) {
    auto req = request({});
    std::string hostile = "$(touch " + pwned().string() + ") ; `id` 'q' \"dq\"\nline2 \\ $HOME";
    fs::path out = job / "got";
    req.command.argv = {"/bin/sh",
                        "-c",
                        R"(printf '%s\n' "$1" "$COSMOS_TEST_HOSTILE" "$HF_TOKEN" "$PWD" > "$2")",
                        "x",
                        hostile,
                        out.string()};
    req.command.cwd = checkout.string();
    write_files(*rt, req);
    ASSERT_EQ(run(rt->launch_command(req)).exit_code, 0);
    Observed o = wait_end(*rt, req, 10s);
    EXPECT_EQ(o.state, ProcessState::exited);
    EXPECT_EQ(o.exit_code, 0);
    EXPECT_EQ(read_file(out),
              hostile + "\n" + req.command.env["COSMOS_TEST_HOSTILE"] + "\n" + k_secret + "\n" +
                  checkout.string() + "\n");
    EXPECT_FALSE(fs::exists(pwned()));
}

TEST_F(NativeRuntimeTest, FollowKeepsTheLastLinesOfAModelThatEndsAtOnce) {
    auto req = request({});
    req.command.argv = {"/bin/sh",
                        "-c",
                        "i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); "
                        "done; echo last >&2; exit 7"};
    write_files(*rt, req);
    ASSERT_EQ(run(rt->launch_command(req)).exit_code, 0);
    auto followed = run(rt->follow_log_command(req));
    EXPECT_NE(followed.out.find("line 0\n"), std::string::npos);
    EXPECT_NE(followed.out.find("line 1999\nlast\n"), std::string::npos);
    Observed o = wait_end(*rt, req, 10s);
    EXPECT_EQ(o.exit_code, 7);
    EXPECT_EQ(status(*rt, req).state, ProcessState::exited);
}

TEST_F(NativeRuntimeTest, StatusOfAJobNeverLaunchedIsAbsent) {
    auto req = request({});
    EXPECT_EQ(status(*rt, req).state, ProcessState::absent);
    EXPECT_EQ(run(rt->kill_command(req)).exit_code, 0);
}

// An enhance run end to end: a 1280x720 input (which the upsampler refuses as it is) cut down to
// upsampler_frame_size, the upsampler command through the native runtime, its prompt read back
// from run.log.
TEST_F(NativeRuntimeTest, EnhanceRunPrintsTheUpsampledPromptIntoTheLog) {
    auto req = request({{"COSMOS_EMULATOR_TIME_SCALE", "0"}});
    cosmos::media::SyntheticVideo hd;
    hd.width = 1280;
    hd.height = 720;
    hd.frames = 3;
    ASSERT_TRUE(cosmos::media::write_synthetic_video(job / "hd.mp4", hd));
    auto size = cosmos::model::upsampler_frame_size(hd.width, hd.height);
    ASSERT_TRUE(cosmos::media::write_scaled_clip(
        job / "hd.mp4", job / "frames.mp4", {size.width, size.height, 2}));
    cosmos::model::EnhanceCommandInput in;
    in.torchrun = (checkout / "bin/torchrun").string();
    in.cosmos_dir = checkout.string();
    in.checkpoint_dir = (checkout / "checkpoints").string();
    in.prompt = "A red ball; $(touch " + pwned().string() + ")";
    in.input_video = (job / "frames.mp4").string();
    auto env = req.command.env;
    req.command = cosmos::model::enhance_command(in);
    req.command.env.insert(env.begin(), env.end());
    write_files(*rt, req);
    ASSERT_EQ(run(rt->launch_command(req)).exit_code, 0);
    run(rt->follow_log_command(req));
    Observed o = wait_end(*rt, req, 10s);
    EXPECT_EQ(o.exit_code, 0) << read_file(rt->log_path(req));
    auto prompt = cosmos::model::parse_upsampled_prompt(read_file(rt->log_path(req)));
    ASSERT_TRUE(prompt.has_value()) << read_file(rt->log_path(req));
    EXPECT_TRUE(prompt->starts_with(in.prompt + " The scene")) << *prompt;
    EXPECT_FALSE(fs::exists(pwned()));
}

TEST_F(NativeRuntimeTest, EnhanceRunOfAFullSizeVideoFailsLikePixtral) {
    auto req = request({{"COSMOS_EMULATOR_TIME_SCALE", "0"}});
    cosmos::media::SyntheticVideo hd;
    hd.width = 1280;
    hd.height = 720;
    hd.frames = 2;
    ASSERT_TRUE(cosmos::media::write_synthetic_video(job / "hd.mp4", hd));
    cosmos::model::EnhanceCommandInput in;
    in.torchrun = (checkout / "bin/torchrun").string();
    in.cosmos_dir = checkout.string();
    in.checkpoint_dir = (checkout / "checkpoints").string();
    in.prompt = "p";
    in.input_video = (job / "hd.mp4").string();
    auto env = req.command.env;
    req.command = cosmos::model::enhance_command(in);
    req.command.env.insert(env.begin(), env.end());
    write_files(*rt, req);
    ASSERT_EQ(run(rt->launch_command(req)).exit_code, 0);
    Observed o = wait_end(*rt, req, 10s);
    EXPECT_EQ(o.exit_code, 1);
    std::string log = read_file(rt->log_path(req));
    EXPECT_NE(log.find("is too long to fit into the model (context length 4096)"),
              std::string::npos)
        << log;
    EXPECT_FALSE(cosmos::model::parse_upsampled_prompt(log).has_value());
}
