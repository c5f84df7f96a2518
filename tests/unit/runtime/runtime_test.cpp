// The runtimes' command lines against golden strings written from
// docs/models/transfer1.md (torchrun flags, CUDA_VISIBLE_DEVICES, PYTHONPATH, the
// docker flags NVIDIA documents), their parsers, and hostile values run through a real sh with a
// fake docker CLI that records its arguments: they arrive intact and run nothing.

#include "runtime/runtime.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/shell_quote.hpp"
#include "model/transfer_command.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "transport/local_process.hpp"

namespace fs = std::filesystem;
using namespace cosmos::runtime;
using cosmos::core::shell_join;

namespace {

const std::string k_job = "/srv/cosmos/jobs/run_0123abcd";

LaunchRequest golden_request(const std::string& cosmos_dir) {
    cosmos::model::TransferCommandInput in;
    in.cosmos_dir = cosmos_dir;
    in.checkpoint_dir = "/data/checkpoints";
    in.spec_path = k_job + "/spec.json";
    in.output_dir = k_job + "/outputs";
    in.gpu_ids = {0, 1};
    in.offload = {"text_encoder_model", "guardrail_models"};
    LaunchRequest r;
    r.job_id = "run_0123abcd";
    r.job_dir = k_job;
    r.command = cosmos::model::transfer_command(in);
    r.checkpoint_dir = "/data/checkpoints";
    r.secret_env = {{"HF_TOKEN", "hf_abcdefghijklmnopqrstuvwxyz012345"}};
    return r;
}

std::unique_ptr<Runtime> make(const RuntimeOptions& o) {
    auto r = make_runtime(o);
    EXPECT_TRUE(r.has_value());
    return std::move(*r);
}

RuntimeOptions docker_options() {
    RuntimeOptions o;
    o.kind = cosmos::core::RuntimeKind::docker;
    o.image = "nvcr.io/example/cosmos-transfer1:1.0";
    o.cosmos_dir = "/opt/cosmos-transfer1";
    o.extra_docker_args = {"--network=host"};
    return o;
}

// Replaces the constant `sh -c SCRIPT` bodies with <script> so the rest can be compared whole.
std::string join_without_scripts(std::vector<std::string> argv) {
    for (std::size_t i = 1; i < argv.size(); ++i) {
        if (argv[i - 1] == "-c" && argv[i].find('\n') != std::string::npos) {
            argv[i] = "SCRIPT";
        }
    }
    return shell_join(argv);
}

}  // namespace

TEST(RuntimeNative, LaunchCommandMatchesTheReference) {
    auto rt = make({});
    auto req = golden_request("/opt/cosmos-transfer1");
    EXPECT_EQ(shell_join(rt->launch_command(req)),
              "sh /srv/cosmos/jobs/run_0123abcd/cosmos-job.sh launch "
              "/srv/cosmos/jobs/run_0123abcd /opt/cosmos-transfer1 "
              "2 CUDA_VISIBLE_DEVICES 0,1 PYTHONPATH /opt/cosmos-transfer1 "
              "torchrun --nproc_per_node=2 --nnodes=1 --node_rank=0 "
              "cosmos_transfer1/diffusion/inference/transfer.py "
              "--checkpoint_dir /data/checkpoints "
              "--video_save_folder /srv/cosmos/jobs/run_0123abcd/outputs "
              "--controlnet_specs /srv/cosmos/jobs/run_0123abcd/spec.json --num_gpus 2 "
              "--video_save_name output --offload_text_encoder_model --offload_guardrail_models");
}

TEST(RuntimeNative, SecretsOnlyInA0600FileNeverInArgv) {
    auto rt = make({});
    auto req = golden_request("/opt/cosmos-transfer1");
    auto files = rt->launch_files(req);
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[0].path, k_job + "/cosmos-job.sh");
    EXPECT_EQ(files[1].path, k_job + "/secret.env");
    EXPECT_EQ(files[1].mode, 0600);
    EXPECT_EQ(files[1].content, "export HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz012345\n");
    for (const auto& cmd : {rt->launch_command(req),
                            rt->status_command(req),
                            rt->kill_command(req),
                            rt->follow_log_command(req),
                            rt->cleanup_command(req)}) {
        EXPECT_EQ(shell_join(cmd).find("hf_abc"), std::string::npos);
    }
}

TEST(RuntimeNative, WatchCommandsAreConstantScriptsWithTheJobDirAsArgument) {
    auto rt = make({});
    auto req = golden_request("/opt/cosmos-transfer1");
    EXPECT_EQ(join_without_scripts(rt->status_command(req)),
              "sh -c SCRIPT cosmos-status /srv/cosmos/jobs/run_0123abcd");
    EXPECT_EQ(join_without_scripts(rt->kill_command(req)),
              "sh -c SCRIPT cosmos-kill /srv/cosmos/jobs/run_0123abcd");
    EXPECT_EQ(join_without_scripts(rt->follow_log_command(req)),
              "sh -c SCRIPT cosmos-follow /srv/cosmos/jobs/run_0123abcd");
    EXPECT_EQ(rt->log_path(req), "/srv/cosmos/jobs/run_0123abcd/run.log");
    EXPECT_FALSE(rt->image_info_command().has_value());
}

TEST(RuntimeDocker, LaunchCommandMatchesTheReference) {
    auto rt = make(docker_options());
    auto req = golden_request("/workspace");  // the command as the container sees it
    EXPECT_EQ(join_without_scripts(rt->launch_command(req)),
              "sh -c SCRIPT cosmos-launch /srv/cosmos/jobs/run_0123abcd "
              "docker run -d --name cosmos-run_0123abcd --gpus all --ipc=host --shm-size=8g "
              "-v /opt/cosmos-transfer1:/workspace -v /data/checkpoints:/data/checkpoints "
              "-v /srv/cosmos/jobs/run_0123abcd:/srv/cosmos/jobs/run_0123abcd -w /workspace "
              "-e PYTHONPATH=/workspace -e CUDA_VISIBLE_DEVICES=0,1 "
              "--env-file /srv/cosmos/jobs/run_0123abcd/secret.env --network=host "
              "nvcr.io/example/cosmos-transfer1:1.0 sh -c SCRIPT cosmos-job "
              "/srv/cosmos/jobs/run_0123abcd "
              "torchrun --nproc_per_node=2 --nnodes=1 --node_rank=0 "
              "cosmos_transfer1/diffusion/inference/transfer.py "
              "--checkpoint_dir /data/checkpoints "
              "--video_save_folder /srv/cosmos/jobs/run_0123abcd/outputs "
              "--controlnet_specs /srv/cosmos/jobs/run_0123abcd/spec.json --num_gpus 2 "
              "--video_save_name output --offload_text_encoder_model --offload_guardrail_models");
    auto files = rt->launch_files(req);
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].content, "HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz012345\n");
    EXPECT_EQ(files[0].mode, 0600);
}

TEST(RuntimeDocker, NoGpusFlagWhenEmptyAndGlobalArgsBeforeTheSubcommand) {
    auto o = docker_options();
    o.gpus_flag = "";
    o.docker_global_args = {"-H", "unix:///run/d.sock"};
    auto rt = make(o);
    auto req = golden_request("/workspace");
    std::string launch = join_without_scripts(rt->launch_command(req));
    EXPECT_EQ(launch.find("--gpus"), std::string::npos);
    EXPECT_NE(launch.find("docker -H unix:///run/d.sock run -d --name cosmos-run_0123abcd "
                          "--ipc=host"),
              std::string::npos);
    EXPECT_EQ(join_without_scripts(rt->status_command(req)),
              "sh -c SCRIPT cosmos-status cosmos-run_0123abcd docker -H unix:///run/d.sock");
    EXPECT_EQ(join_without_scripts(rt->kill_command(req)),
              "sh -c SCRIPT cosmos-kill cosmos-run_0123abcd docker -H unix:///run/d.sock");
    EXPECT_EQ(join_without_scripts(rt->cleanup_command(req)),
              "sh -c SCRIPT cosmos-cleanup /srv/cosmos/jobs/run_0123abcd cosmos-run_0123abcd "
              "docker -H unix:///run/d.sock");
    EXPECT_EQ(shell_join(*rt->image_info_command()),
              "docker -H unix:///run/d.sock image inspect --format "
              "'{{.Id}} {{json .RepoDigests}}' nvcr.io/example/cosmos-transfer1:1.0");
}

TEST(RuntimeDocker, ContainerNameKeepsTheFullJobId) {
    EXPECT_EQ(container_name("rs_0123456789abcdef0123"), "cosmos-rs_0123456789abcdef0123");
}

TEST(RuntimeParse, StateLines) {
    auto p = [](int code, const std::string& out) { return parse_state_line(code, out); };
    EXPECT_EQ(p(0, "running 1234\n")->state, ProcessState::running);
    EXPECT_EQ(p(0, "running\n")->state, ProcessState::running);
    EXPECT_EQ(p(0, "exited 0\n")->exit_code, 0);
    EXPECT_EQ(p(0, "exited 143\n")->state, ProcessState::exited);
    EXPECT_EQ(p(0, "exited 143\n")->exit_code, 143);
    EXPECT_EQ(p(0, "vanished 99\n")->state, ProcessState::exited);
    EXPECT_EQ(p(0, "vanished 99\n")->exit_code, -1);
    EXPECT_EQ(p(0, "absent\n")->state, ProcessState::absent);
    EXPECT_FALSE(p(2, "").has_value());  // e.g. docker daemon unreachable
    EXPECT_FALSE(p(0, "").has_value());
    EXPECT_FALSE(p(0, "what\n").has_value());
    EXPECT_EQ(p(0, "exited x\n")->exit_code, -1);
}

TEST(RuntimeParse, ImageInspect) {
    auto info = parse_image_inspect("sha256:4f1d2 [\"nvcr.io/example/cosmos@sha256:9a8b\"]\n");
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->id, "sha256:4f1d2");
    EXPECT_EQ(info->repo_digests, std::vector<std::string>{"nvcr.io/example/cosmos@sha256:9a8b"});
    auto local = parse_image_inspect("sha256:77 []\n");
    ASSERT_TRUE(local.has_value());
    EXPECT_TRUE(local->repo_digests.empty());
    EXPECT_FALSE(parse_image_inspect("Error: No such image: x\n").has_value());
    EXPECT_FALSE(parse_image_inspect("sha256:77 [1]").has_value());
}

// (An unknown runtime kind cannot reach make_runtime: the config and the CLI parse names into
// core::RuntimeKind, tests/unit/core/kinds_test.cpp.)
TEST(RuntimeMake, ContainersWithoutImageAreConfigErrors) {
    RuntimeOptions o;
    for (auto kind : {cosmos::core::RuntimeKind::docker, cosmos::core::RuntimeKind::apptainer}) {
        o.kind = kind;
        auto missing = make_runtime(o);
        ASSERT_FALSE(missing.has_value()) << cosmos::core::to_string(kind);
        EXPECT_EQ(missing.error().code, cosmos::core::ErrorCode::config);
        EXPECT_NE(missing.error().message.find(cosmos::core::to_string(kind)), std::string::npos);
    }
    EXPECT_EQ(make({})->name(), "native");
}

// apptainer runs under the native supervisor: the supervisor starts from the host's checkout,
// `apptainer exec` mounts it at /workspace (where the command expects it) with the checkpoint
// and job dirs at their own paths, and the environment (CUDA_VISIBLE_DEVICES, the sourced
// secrets) reaches the model because apptainer passes it on.
TEST(RuntimeApptainer, LaunchCommandRunsTheModelInApptainerExec) {
    RuntimeOptions o;
    o.kind = cosmos::core::RuntimeKind::apptainer;
    o.image = "/shared/images/cosmos-transfer1_1.0.sif";
    o.cosmos_dir = "/opt/cosmos-transfer1";
    auto rt = make(o);
    EXPECT_EQ(rt->name(), "apptainer");
    auto req = golden_request("/workspace");
    EXPECT_EQ(
        shell_join(rt->launch_command(req)),
        "sh /srv/cosmos/jobs/run_0123abcd/cosmos-job.sh launch "
        "/srv/cosmos/jobs/run_0123abcd /opt/cosmos-transfer1 "
        "2 CUDA_VISIBLE_DEVICES 0,1 PYTHONPATH /workspace "
        "apptainer exec --nv --bind /opt/cosmos-transfer1:/workspace "
        "--bind /data/checkpoints:/data/checkpoints "
        "--bind /srv/cosmos/jobs/run_0123abcd:/srv/cosmos/jobs/run_0123abcd "
        "--pwd /workspace --env PYTHONPATH=/workspace /shared/images/cosmos-transfer1_1.0.sif "
        "torchrun --nproc_per_node=2 --nnodes=1 --node_rank=0 "
        "cosmos_transfer1/diffusion/inference/transfer.py "
        "--checkpoint_dir /data/checkpoints "
        "--video_save_folder /srv/cosmos/jobs/run_0123abcd/outputs "
        "--controlnet_specs /srv/cosmos/jobs/run_0123abcd/spec.json --num_gpus 2 "
        "--video_save_name output --offload_text_encoder_model --offload_guardrail_models");
    for (const auto& arg : rt->launch_command(req)) {
        EXPECT_EQ(arg.find("hf_"), std::string::npos);  // the token stays in the 0600 file
    }
    o.gpus_flag = "";  // no NVIDIA driver on the host: no --nv
    auto argv = make(o)->launch_command(req);
    EXPECT_EQ(std::find(argv.begin(), argv.end(), "--nv"), argv.end());
    auto comma = req;
    comma.job_dir = "/srv/a,b";
    EXPECT_FALSE(validate_request(o, comma).has_value());  // --bind lists split on ','
    EXPECT_TRUE(validate_request(docker_options(), comma).has_value());
}

TEST(RuntimeValidate, RefusesWhatTheBuildersCannotCarry) {
    RuntimeOptions native;
    auto ok = golden_request("/opt/cosmos-transfer1");
    EXPECT_TRUE(validate_request(native, ok).has_value());
    auto bad_id = ok;
    bad_id.job_id = "a b";
    EXPECT_FALSE(validate_request(native, bad_id).has_value());
    auto bad_env = ok;
    bad_env.command.env["A=B"] = "x";
    EXPECT_FALSE(validate_request(native, bad_env).has_value());
    auto newline_secret = ok;
    newline_secret.secret_env["HF_TOKEN"] = "a\nEVIL=1";
    auto r = validate_request(native, newline_secret);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message.find("EVIL"), std::string::npos);  // the value is never echoed
    auto relative = ok;
    relative.job_dir = "jobs/x";
    EXPECT_FALSE(validate_request(native, relative).has_value());
    auto colon = ok;
    colon.job_dir = "/srv/a:b";
    EXPECT_TRUE(validate_request(native, colon).has_value());
    EXPECT_FALSE(validate_request(docker_options(), colon).has_value());
}

// The whole docker command path through a real sh, with a fake docker CLI that records its
// argv (NUL-separated): hostile values arrive byte for byte and nothing is executed.
TEST(RuntimeDocker, HostileValuesStayInertThroughTheLaunchScript) {
    cosmos::test::TempDir tmp;
    fs::path pwned = tmp / "pwned";
    std::string hostile = "$(touch " + pwned.string() + ") `touch " + pwned.string() +
                          "` ; touch " + pwned.string() + " 'q' \"dq\" \nnew line";
    fs::path job = tmp / ("job dir 'x' $(touch " + pwned.string() + ")");
    fs::create_directories(job);
    fs::path record = tmp / "docker-args";
    fs::path fake = tmp.write("fake-docker",
                              "#!/bin/sh\nprintf '%s\\0' \"$@\" > \"$FAKE_DOCKER_RECORD\"\n"
                              "echo 0123456789abcdef\n");
    fs::permissions(fake, fs::perms::owner_all);

    auto o = docker_options();
    o.docker = fake.string();
    auto rt = make(o);
    LaunchRequest req;
    req.job_id = "run_1";
    req.job_dir = job.string();
    req.checkpoint_dir = "/data/checkpoints";
    req.command.argv = {"torchrun", hostile};
    req.command.cwd = "/workspace";
    req.command.env = {{"COSMOS_X", hostile}};
    req.secret_env = {{"HF_TOKEN", "hf_secret"}};
    for (const auto& f : rt->launch_files(req)) {
        std::ofstream(f.path) << f.content;
    }
    ASSERT_TRUE(fs::exists(job / "secret.env"));

    std::string out;
    auto exit = cosmos::transport::run_process(
        {rt->launch_command(req), {{"FAKE_DOCKER_RECORD", record.string()}}, ""},
        [&](std::string_view l) { out += std::string(l) + "\n"; });
    ASSERT_TRUE(exit.has_value());
    EXPECT_EQ(exit->exit_code, 0) << out;
    EXPECT_FALSE(fs::exists(pwned));
    EXPECT_FALSE(fs::exists(job / "secret.env"));  // removed once docker run returned
    EXPECT_TRUE(fs::exists(job / "run.log"));

    std::vector<std::string> got;
    std::string raw = cosmos::test::read_file(record);
    for (std::size_t start = 0, end; (end = raw.find('\0', start)) != std::string::npos;
         start = end + 1) {
        got.push_back(raw.substr(start, end - start));
    }
    auto launch = rt->launch_command(req);
    // The fake saw exactly the docker argv after `sh -c SCRIPT cosmos-launch JOB_DIR docker`.
    std::vector<std::string> expected(launch.begin() + 6, launch.end());
    EXPECT_EQ(got, expected);
    EXPECT_NE(std::find(got.begin(), got.end(), "COSMOS_X=" + hostile), got.end());
    EXPECT_EQ(got.back(), hostile);
}
