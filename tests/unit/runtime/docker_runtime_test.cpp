// The docker runtime for real: a private dockerd (its own data root and socket, no iptables, no
// bridge, as docs/testing.md describes) runs the emulator in a container
// through the runtime's exact commands, with gpus_flag empty and --network=host from the extra
// args. The image is imported from a rootfs holding sh, the few tools the wrappers use and the
// shared libraries `ldd` lists for them and for the emulator; the checkout (with the emulator
// binary) is mounted at /workspace by the runtime itself. Skipped when dockerd is not installed
// or cannot start here (not root, no overlay2...).

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/shell_quote.hpp"
#include "media/synthetic.hpp"
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

const std::string k_secret = "hf_DoCkErSeCrEt0123456789";

using cosmos::test::Ran;
using cosmos::test::read_file;

Ran run(const std::vector<std::string>& argv) {
    return cosmos::test::run_command(argv);
}

Ran sh(const std::string& script) {
    return run({"/bin/sh", "-c", script});
}

bool have(const std::string& tool) {
    return sh("command -v " + cosmos::core::shell_quote(tool) + " >/dev/null").exit_code == 0;
}

// One dockerd for the whole suite, and the test image.
class Engine {
public:
    static Engine& get() {
        static Engine engine;
        return engine;
    }
    bool ok() const { return m_ok; }
    const std::string& why() const { return m_why; }
    std::vector<std::string> docker() const { return {"-H", "unix://" + m_socket}; }
    const std::string& image() const { return m_image; }

    ~Engine() {
        if (m_pid > 0) {
            ::kill(m_pid, SIGTERM);
            for (int i = 0; i < 100 && ::kill(m_pid, 0) == 0; ++i) {
                std::this_thread::sleep_for(100ms);
            }
        }
        std::error_code ec;
        for (const char* rel : {"exec/netns/default", "exec", "data"}) {
            sh("umount -R " + cosmos::core::shell_quote((m_dir / rel).string()) + " 2>/dev/null");
        }
        fs::remove_all(m_dir, ec);
    }

private:
    Engine() {
        if (::geteuid() != 0 || !have("dockerd") || !have("docker")) {
            m_why = "dockerd not installed or not root";
            return;
        }
        char templ[] = "/tmp/cosmos-dockerd-XXXXXX";
        m_dir = ::mkdtemp(templ);
        m_socket = (m_dir / "docker.sock").string();
        auto d = [&](const char* rel) { return cosmos::core::shell_quote((m_dir / rel).string()); };
        auto started = sh("dockerd --data-root " + d("data") + " --exec-root " + d("exec") +
                          " --pidfile " + d("dockerd.pid") + " -H unix://" + m_socket +
                          " --storage-driver overlay2 --iptables=false --ip6tables=false "
                          "--bridge=none </dev/null >" +
                          d("dockerd.log") + " 2>&1 & echo $!");
        m_pid = std::atoi(started.out.c_str());
        for (int i = 0; i < 150; ++i) {
            if (run({"docker", "-H", "unix://" + m_socket, "version"}).exit_code == 0) {
                m_ok = true;
                break;
            }
            std::this_thread::sleep_for(100ms);
        }
        if (!m_ok) {
            m_why = "dockerd did not start: " + read_file(m_dir / "dockerd.log").substr(0, 2000);
            return;
        }
        m_ok = build_image();
    }

    // A rootfs with sh, dirname, mv, cat, sleep and the libraries they and the emulator need.
    bool build_image() {
        fs::path root = m_dir / "rootfs";
        std::set<std::string> files;
        for (const char* tool : {"sh", "dirname", "mv", "cat", "sleep", "rm"}) {
            auto where = sh(std::string("command -v ") + tool);
            std::string path = where.out.substr(0, where.out.find('\n'));
            files.insert(fs::canonical(path).string());
            files.insert(path);
        }
        files.insert(COSMOS_EMULATOR_PATH);
        std::set<std::string> libs;
        for (const auto& f : files) {
            auto deps = run({"ldd", f});
            std::istringstream lines(deps.out);
            for (std::string line; std::getline(lines, line);) {
                for (std::istringstream words(line); words;) {
                    std::string w;
                    words >> w;
                    if (w.starts_with("/")) {
                        libs.insert(w);
                    }
                }
            }
        }
        files.erase(COSMOS_EMULATOR_PATH);  // mounted with the checkout, not in the image
        files.insert(libs.begin(), libs.end());
        // Debian is merged-/usr: files go to their real directory under /usr and the top-level
        // bin, sbin, lib and lib64 are symlinks, as on the host (so #!/bin/sh and the loader
        // /lib64/ld-linux-x86-64.so.2 resolve).
        for (const auto& f : files) {
            fs::path real_dir = fs::canonical(fs::path(f).parent_path());
            fs::path dest = root / real_dir.relative_path() / fs::path(f).filename();
            fs::create_directories(dest.parent_path());
            std::error_code ec;
            fs::copy_file(fs::canonical(f), dest, fs::copy_options::overwrite_existing, ec);
            if (ec) {
                m_why = "cannot copy " + f + ": " + ec.message();
                return false;
            }
            fs::permissions(dest, fs::perms(0755));
        }
        for (const char* top : {"bin", "sbin", "lib", "lib64"}) {
            if (fs::is_symlink(fs::path("/") / top)) {
                fs::create_directory_symlink(fs::read_symlink(fs::path("/") / top), root / top);
            }
        }
        fs::create_directories(root / "tmp");
        std::string q = cosmos::core::shell_quote(root.string());
        auto imported = sh("tar -C " + q + " -cf - . | docker -H unix://" + m_socket +
                           " import - cosmos-emulator-test:1 2>&1");
        if (imported.exit_code != 0) {
            m_why = "docker import failed: " + imported.out;
            return false;
        }
        m_image = "cosmos-emulator-test:1";
        return true;
    }

    bool m_ok = false;
    std::string m_why;
    fs::path m_dir;
    std::string m_socket;
    std::string m_image;
    pid_t m_pid = -1;
};

class DockerRuntimeTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!Engine::get().ok()) {
            GTEST_SKIP() << Engine::get().why();
        }
        checkout = tmp / "cosmos checkout";
        ASSERT_TRUE(cosmos::services::install_emulator(checkout, COSMOS_EMULATOR_PATH));
        job = tmp / "job dir 'q'";
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
        RuntimeOptions o;
        o.kind = cosmos::core::RuntimeKind::docker;
        o.docker_global_args = Engine::get().docker();
        o.image = Engine::get().image();
        o.gpus_flag = "";
        o.shm_size = "64m";
        o.extra_docker_args = {"--network=host"};
        o.cosmos_dir = checkout.string();
        options = o;
        rt = std::move(*make_runtime(o));
    }

    void TearDown() override {
        if (rt) {
            run(rt->cleanup_command(request({})));
        }
    }

    LaunchRequest request(const std::map<std::string, std::string>& emulator_env) const {
        cosmos::model::TransferCommandInput in;
        in.torchrun = "/workspace/bin/torchrun";
        in.cosmos_dir = "/workspace";  // the command as the container sees it
        in.checkpoint_dir = "/workspace/checkpoints";
        in.spec_path = (job / "spec.json").string();
        in.output_dir = (job / "outputs").string();
        LaunchRequest req;
        req.job_id = "run_docker_" + std::to_string(::getpid());
        req.job_dir = job.string();
        req.command = cosmos::model::transfer_command(in);
        req.command.env.insert(emulator_env.begin(), emulator_env.end());
        req.command.env["COSMOS_EMULATOR_RECORD"] = (job / "record.jsonl").string();
        req.checkpoint_dir = (checkout / "checkpoints").string();
        req.secret_env = {{"HF_TOKEN", k_secret}};
        return req;
    }

    void write_files(const LaunchRequest& req) const {
        for (const auto& f : rt->launch_files(req)) {
            std::ofstream(f.path, std::ios::binary) << f.content;
            fs::permissions(f.path, static_cast<fs::perms>(f.mode));
        }
    }

    Observed status(const LaunchRequest& req) const {
        auto ran = run(rt->status_command(req));
        auto parsed = rt->parse_status(ran.exit_code, ran.out);
        EXPECT_TRUE(parsed.has_value()) << ran.out;
        return parsed.value_or(Observed{});
    }

    cosmos::test::TempDir tmp;
    fs::path checkout;
    fs::path job;
    RuntimeOptions options;
    std::unique_ptr<Runtime> rt;
};

}  // namespace

TEST_F(DockerRuntimeTest, RunsTheEmulatorInAContainerToTheEnd) {
    auto req = request({{"COSMOS_EMULATOR_TIME_SCALE", "1"},
                        {"COSMOS_EMULATOR_LOAD_SECONDS", "4"},
                        {"COSMOS_EMULATOR_STEP_SECONDS", "0.01"}});
    ASSERT_TRUE(validate_request(options, req).has_value());
    write_files(req);
    auto launched = run(rt->launch_command(req));
    ASSERT_EQ(launched.exit_code, 0) << launched.out;
    EXPECT_FALSE(fs::exists(job / "secret.env"));
    EXPECT_EQ(status(req).state, ProcessState::running);
    EXPECT_EQ(run({"ps", "-eo", "args"}).out.find(k_secret), std::string::npos);

    auto again = run(rt->launch_command(req));  // the name is taken: refused
    EXPECT_NE(again.exit_code, 0);

    auto followed = run(rt->follow_log_command(req));
    EXPECT_NE(followed.out.find("Saved video to"), std::string::npos) << followed.out;
    Observed end = status(req);
    EXPECT_EQ(end.state, ProcessState::exited);
    EXPECT_EQ(end.exit_code, 0) << read_file(job / "run.log");
    EXPECT_GT(fs::file_size(job / "outputs/output.mp4"), 0u);
    EXPECT_EQ(read_file(job / "exit_code"), "0\n");
    EXPECT_EQ(read_file(job / "run.log").find(k_secret), std::string::npos);
    EXPECT_NE(read_file(job / "record.jsonl").find(R"("HF_TOKEN":"yes")"), std::string::npos);

    auto image = run(*rt->image_info_command());
    auto info = parse_image_inspect(image.out);
    ASSERT_TRUE(info.has_value()) << image.out;
    EXPECT_TRUE(info->id.starts_with("sha256:"));

    EXPECT_EQ(run(rt->cleanup_command(req)).exit_code, 0);
    EXPECT_EQ(status(req).state, ProcessState::absent);
    EXPECT_EQ(run(rt->cleanup_command(req)).exit_code, 0);  // nothing left: still 0
}

TEST_F(DockerRuntimeTest, KillStopsTheContainerWithinFiveSeconds) {
    auto req =
        request({{"COSMOS_EMULATOR_TIME_SCALE", "1"}, {"COSMOS_EMULATOR_LOAD_SECONDS", "60"}});
    write_files(req);
    ASSERT_EQ(run(rt->launch_command(req)).exit_code, 0);
    ASSERT_EQ(status(req).state, ProcessState::running);
    std::this_thread::sleep_for(500ms);
    auto t0 = Clock::now();
    EXPECT_EQ(run(rt->kill_command(req)).exit_code, 0);
    EXPECT_LT(Clock::now() - t0, 5s);
    Observed o = status(req);
    EXPECT_EQ(o.state, ProcessState::exited);
    EXPECT_EQ(o.exit_code, 143);  // SIGTERM forwarded to the emulator, which exits 143
    EXPECT_EQ(run(rt->kill_command(req)).exit_code, 0);
    EXPECT_EQ(status(req).state, ProcessState::exited);
}
