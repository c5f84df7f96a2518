#include "config/config.hpp"

#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "unit/config/config_test_support.hpp"

namespace fs = std::filesystem;
using cosmos::config::Config;
using cosmos::config::HostConfig;
using cosmos::config::load_config;
using cosmos::config::LoadOptions;
using cosmos::config::parse_config;
using cosmos::config::render_config;
using cosmos::core::ErrorCode;
using cosmos::test::ConfigEnv;

namespace {

class ConfigTest : public cosmos::test::ConfigFixture {
protected:
    fs::path file() const { return root() / "cosmos.toml"; }

    cosmos::core::Result<Config> parse(const std::string& text) {
        return parse_config(text, file());
    }

    // Parses `text`, expects a config error and returns its message.
    std::string error_of(const std::string& text) {
        auto config = parse(text);
        EXPECT_FALSE(config.has_value()) << "parsed without error:\n" << text;
        if (config.has_value()) {
            return {};
        }
        EXPECT_EQ(config.error().code, ErrorCode::config) << config.error().message;
        return config.error().message;
    }

    std::string at(int line) const { return file().string() + ":" + std::to_string(line) + ": "; }
};

fs::path real_path(const fs::path& p) {
    return fs::weakly_canonical(p);
}

constexpr const char* k_ssh_host = R"(
[hosts.gpu1]
kind = "ssh"
address = "gpu1.example.com"
user = "artist"
runtime = "docker"
image = "nvcr.io/cosmos/transfer1:latest"
cosmos_dir = "/opt/cosmos"
)";

}  // namespace

TEST_F(ConfigTest, MalformedTomlNamesFileLineAndColumn) {
    std::string message = error_of("[run]\nnum_steps = 35\nguidance = \n");
    EXPECT_EQ(message.rfind(file().string() + ":3:", 0), 0u) << message;
}

TEST_F(ConfigTest, UnknownKeyNamesFileLineKeyAndValidKeys) {
    auto config = parse("[run]\nnum_steps = 35\nnum_stepz = 3\n");
    ASSERT_FALSE(config.has_value());
    EXPECT_EQ(config.error().message, at(3) + "unknown key 'num_stepz' in [run]");
    EXPECT_NE(config.error().hint.find("num_steps"), std::string::npos) << config.error().hint;
}

TEST_F(ConfigTest, UnknownKeyInHostAndAtTopLevel) {
    EXPECT_EQ(error_of("[hosts.box]\nkind = \"local\"\nadress = \"x\"\n"),
              at(3) + "unknown key 'adress' in [hosts.box]");
    EXPECT_EQ(error_of("\n[pathz]\ndata_dir = \"x\"\n"),
              at(2) + "unknown key 'pathz' in the top level");
}

TEST_F(ConfigTest, WrongTypeNamesExpectedAndActual) {
    EXPECT_EQ(error_of("[run]\nnum_steps = \"35\"\n"),
              at(2) + "[run] num_steps must be an integer, got string");
    EXPECT_EQ(error_of("[run]\nnum_steps = 3.5\n"),
              at(2) + "[run] num_steps must be an integer, got float");
    EXPECT_EQ(error_of("[run]\noffload = \"guardrail_models\"\n"),
              at(2) + "[run] offload must be an array of strings, got string");
    EXPECT_EQ(error_of("[hosts.box]\ngpus = \"2\"\n"),
              at(2) + "[hosts.box] gpus must be an integer, got string");
}

TEST_F(ConfigTest, GuidanceAcceptsIntegers) {
    auto config = parse("[run]\nguidance = 8\nsigma_max = 60.5\n");
    ASSERT_TRUE(config.has_value()) << config.error().message;
    EXPECT_DOUBLE_EQ(config->run.guidance, 8.0);
    EXPECT_DOUBLE_EQ(config->run.sigma_max, 60.5);
}

TEST_F(ConfigTest, OutOfRangeValuesAreRefusedWithFileLine) {
    EXPECT_EQ(error_of("[run]\nnum_steps = 500\n"),
              at(2) + "[run] num_steps: steps 500 is out of range 1-100");

    std::string gpus = error_of("[run]\n\nnum_gpus = 3\n");
    EXPECT_EQ(gpus.rfind(at(3), 0), 0u) << gpus;

    std::string weight = error_of("[run.weights]\nvis = 0.5\ndepth = -1\n");
    EXPECT_EQ(weight.rfind(at(3), 0), 0u) << weight;
    EXPECT_NE(weight.find("depth"), std::string::npos) << weight;

    std::string modality = error_of("[run.weights]\nupscale = 0.5\n");
    EXPECT_EQ(modality.rfind(at(2), 0), 0u) << modality;
    EXPECT_NE(modality.find("upscale"), std::string::npos) << modality;

    EXPECT_EQ(error_of("[run]\noffload = [\"guardrail_models\", \"everything\"]\n").rfind(at(2), 0),
              0u);
    EXPECT_EQ(error_of("[run]\nblur_strength = \"extreme\"\n").rfind(at(2), 0), 0u);
    EXPECT_EQ(error_of("[hosts.box]\ngpus = 0\n").rfind(at(2), 0), 0u);
    EXPECT_EQ(error_of(std::string(k_ssh_host) + "port = 70000\n").rfind(at(9), 0), 0u);
}

TEST_F(ConfigTest, WeightsTableReplacesTheDefaults) {
    auto config = parse("[run.weights]\nvis = 0.5\nedge = 1\n");
    ASSERT_TRUE(config.has_value()) << config.error().message;
    EXPECT_EQ(config->run.weights, (std::map<std::string, double>{{"vis", 0.5}, {"edge", 1.0}}));
}

TEST_F(ConfigTest, UnsafeHostNamesAreRefused) {
    std::string semicolon = error_of("[hosts.\"a;b\"]\nkind = \"local\"\n");
    EXPECT_EQ(semicolon.rfind(at(1), 0), 0u) << semicolon;
    EXPECT_NE(semicolon.find("';'"), std::string::npos) << semicolon;
    std::string dots = error_of("\n[hosts.\"../x\"]\nkind = \"local\"\n");
    EXPECT_EQ(dots.rfind(at(2), 0), 0u) << dots;
}

TEST_F(ConfigTest, UnsafeSshValuesAreRefused) {
    std::string text = "[hosts.gpu1]\nkind = \"ssh\"\n";
    std::string option = error_of(text + "user = \"me\"\naddress = \"-oProxyCommand=sh\"\n");
    EXPECT_EQ(option, at(4) + "[hosts.gpu1] address '-oProxyCommand=sh' must not start with '-'");
    std::string user = error_of(text + "address = \"gpu1\"\nuser = \"me; rm -rf ~\"\n");
    EXPECT_EQ(user, at(4) + "[hosts.gpu1] user contains the character ';', which is not allowed");
}

TEST_F(ConfigTest, SshHostNeedsAddressAndUser) {
    EXPECT_EQ(error_of("[run]\nhost = \"gpu1\"\n\n[hosts.gpu1]\nkind = \"ssh\"\nuser = \"me\"\n"),
              at(4) + "[hosts.gpu1] is an ssh host and needs address");
    EXPECT_EQ(error_of("[hosts.gpu1]\nkind = \"ssh\"\n"),
              at(1) + "[hosts.gpu1] is an ssh host and needs address and user");
}

TEST_F(ConfigTest, SlurmHostNeedsPartitionAndSharedDir) {
    EXPECT_EQ(error_of("[hosts.cl]\nkind = \"slurm\"\n"),
              at(1) + "[hosts.cl] is a slurm host and needs partition and shared_dir");
    EXPECT_EQ(error_of("[hosts.cl]\nkind = \"slurm\"\nshared_dir = \"/shared\"\n"),
              at(1) + "[hosts.cl] is a slurm host and needs partition");
    EXPECT_EQ(error_of("[hosts.cl]\nkind = \"slurm\"\npartition = \"gpu\"\nshared_dir = \"/s\"\n"
                       "address = \"login1\"\n"),
              at(1) + "[hosts.cl] reaches its login node over ssh and needs user");
    std::string bad =
        error_of("[hosts.cl]\nkind = \"slurm\"\npartition = \"-gpu\"\nshared_dir = \"/s\"\n");
    EXPECT_NE(bad.find("partition '-gpu' must not start with '-'"), std::string::npos) << bad;
    bad = error_of(
        "[hosts.cl]\nkind = \"slurm\"\npartition = \"gpu\"\nshared_dir = \"/s\"\ntime_limit = "
        "\"1h\"\n");
    EXPECT_NE(bad.find("is not a Slurm time"), std::string::npos) << bad;
    bad = error_of(
        "[hosts.cl]\nkind = \"slurm\"\npartition = \"gpu\"\nshared_dir = \"/s\"\nmax_in_flight = "
        "0\n");
    EXPECT_NE(bad.find("max_in_flight 0 is out of range"), std::string::npos) << bad;
}

TEST_F(ConfigTest, SettingsOfAnotherKindOrRuntimeAreRefused) {
    EXPECT_EQ(error_of("[hosts.box]\npartition = \"gpu\"\n"),
              at(1) +
                  "[hosts.box] (local host, native runtime) sets partition, which only slurm "
                  "hosts use");
    EXPECT_EQ(error_of("[hosts.box]\naddress = \"gpu1\"\nport = 2222\n"),
              at(1) +
                  "[hosts.box] (local host, native runtime) sets address, port, which only "
                  "ssh and slurm hosts use");
    EXPECT_EQ(error_of("[hosts.g]\nkind = \"ssh\"\naddress = \"g\"\nuser = \"u\"\n"
                       "account = \"proj\"\n"),
              at(1) +
                  "[hosts.g] (ssh host, native runtime) sets account, which only slurm hosts "
                  "use");
    EXPECT_EQ(error_of("[hosts.box]\ndocker_gpus = \"device=0\"\n"),
              at(1) +
                  "[hosts.box] (local host, native runtime) sets docker_gpus, which only the "
                  "docker and apptainer runtimes use");
    EXPECT_EQ(error_of("[hosts.box]\nshm_size = \"16g\"\n"),
              at(1) +
                  "[hosts.box] (local host, native runtime) sets shm_size, which only the "
                  "docker runtime uses");
    EXPECT_EQ(error_of("[hosts.cl]\nkind = \"slurm\"\npartition = \"gpu\"\nshared_dir = "
                       "\"/s\"\nruntime = \"apptainer\"\nimage = \"/s/c.sif\"\n"
                       "docker_args = [\"--network=host\"]\n"),
              at(1) +
                  "[hosts.cl] (slurm host, apptainer runtime) sets docker_args, which only "
                  "the docker runtime uses");
    // What applies is accepted: a slurm login node over ssh, apptainer's --nv switch, a key
    // written at its default value anywhere, an image on a native host (`setup image` builds
    // one before the host switches runtime).
    auto config = parse(
        "[hosts.cl]\nkind = \"slurm\"\npartition = \"gpu\"\nshared_dir = \"/s\"\n"
        "address = \"login1\"\nuser = \"me\"\nruntime = \"apptainer\"\nimage = "
        "\"/s/c.sif\"\ndocker_gpus = \"\"\n[hosts.box]\nport = 22\nimage = \"c:1.0\"\n"
        "[run]\nhost = \"box\"\n");
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->hosts.at("cl").ssh.address, "login1");
    EXPECT_EQ(config->hosts.at("cl").container.docker_gpus, "");
}

TEST_F(ConfigTest, SlurmHostRoundTrips) {
    auto config = parse(
        "[hosts.cl]\nkind = \"slurm\"\npartition = \"gpu-a100\"\naccount = \"proj_7\"\n"
        "time_limit = \"4:00:00\"\nshared_dir = \"/shared/cosmos\"\nmax_in_flight = 12\n"
        "cpus_per_task = 16\ngpus = 8\n");
    ASSERT_TRUE(config) << config.error().message;
    const HostConfig& h = config->hosts.at("cl");
    EXPECT_EQ(h.slurm.partition, "gpu-a100");
    EXPECT_EQ(h.slurm.account, "proj_7");
    EXPECT_EQ(h.slurm.time_limit, "4:00:00");
    EXPECT_EQ(h.work_dir, fs::path("/shared/cosmos"));
    EXPECT_EQ(h.slurm.max_in_flight, 12);
    EXPECT_EQ(h.slurm.cpus_per_task, 16);
    auto again = parse(render_config(*config));
    ASSERT_TRUE(again) << again.error().message << "\n" << render_config(*config);
    const HostConfig& h2 = again->hosts.at("cl");
    EXPECT_EQ(h2.slurm.partition, h.slurm.partition);
    EXPECT_EQ(h2.slurm.account, h.slurm.account);
    EXPECT_EQ(h2.slurm.time_limit, h.slurm.time_limit);
    EXPECT_EQ(h2.work_dir, h.work_dir);
    EXPECT_EQ(h2.slurm.max_in_flight, 12);
    EXPECT_EQ(h2.slurm.cpus_per_task, 16);
}

TEST_F(ConfigTest, SlurmHostRunsContainersWhosePathsCanBeMounted) {
    auto config = parse(
        "[hosts.cl]\nkind = \"slurm\"\npartition = \"gpu\"\nshared_dir = \"/shared/cosmos\"\n"
        "runtime = \"apptainer\"\nimage = \"/shared/cosmos-transfer1_1.0.sif\"\n");
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->hosts.at("cl").runtime, cosmos::core::RuntimeKind::apptainer);
    std::string bad = error_of(
        "[hosts.cl]\nkind = \"slurm\"\npartition = \"gpu\"\nshared_dir = \"/shared/a,b\"\n"
        "runtime = \"apptainer\"\nimage = \"/shared/c.sif\"\n");
    EXPECT_NE(bad.find("the apptainer runtime cannot mount '/shared/a,b' (':' or ',' in the path)"),
              std::string::npos)
        << bad;
    bad = error_of(
        "[hosts.cl]\nkind = \"slurm\"\npartition = \"gpu\"\nshared_dir = \"/shared/a:b\"\n"
        "runtime = \"docker\"\nimage = \"r/c:1.0\"\n");
    EXPECT_NE(bad.find("the docker runtime cannot mount '/shared/a:b' (':' in the path)"),
              std::string::npos)
        << bad;
}

TEST_F(ConfigTest, DockerRuntimeNeedsImage) {
    std::string message = error_of("[hosts.box]\nruntime = \"docker\"\n");
    EXPECT_EQ(message, at(1) + "[hosts.box] uses the docker runtime and needs image");
}

TEST_F(ConfigTest, UnknownRunHostListsConfiguredHosts) {
    auto config = parse(std::string("[run]\nhost = \"gpu9\"\n") + k_ssh_host +
                        "\n[hosts.local]\nkind = \"local\"\n");
    ASSERT_FALSE(config.has_value());
    EXPECT_EQ(config.error().message,
              at(2) + "[run] host 'gpu9' is not a configured host (configured: gpu1, local)");
}

TEST_F(ConfigTest, RunHostDefaultsToTheOnlyConfiguredHost) {
    auto config = parse(k_ssh_host);
    ASSERT_TRUE(config.has_value()) << config.error().message;
    EXPECT_EQ(config->run.host, "gpu1");
    EXPECT_EQ(config->hosts.size(), 1u);
    EXPECT_EQ(config->hosts.at("gpu1").checkpoint_dir, fs::path("/opt/cosmos/checkpoints"));
    EXPECT_EQ(config->hosts.at("gpu1").line, 2);
}

TEST_F(ConfigTest, EnvKeysMustBeVariableNames) {
    EXPECT_EQ(error_of("[hosts.box]\nenv = { \"BAD-KEY\" = \"x\" }\n"),
              at(2) + "[hosts.box.env] 'BAD-KEY' is not a valid environment variable name");
    EXPECT_EQ(error_of("[hosts.box.env]\nOK = \"x\"\n1ST = \"y\"\n").rfind(at(3), 0), 0u);
    EXPECT_EQ(error_of("[hosts.box]\nenv = { N = 1 }\n"),
              at(2) + "[hosts.box.env] N must be a string, got integer");
}

TEST_F(ConfigTest, EmbeddedDefaultsRunTheEmulatorOnALocalHost) {
    auto config = load_config({});
    ASSERT_TRUE(config.has_value()) << config.error().message;
    EXPECT_TRUE(config->source.empty());
    fs::path data = home() / ".local/share/cosmos";
    EXPECT_EQ(config->paths.data_dir, data);
    EXPECT_EQ(config->paths.config_dir, home() / ".config/cosmos");
    ASSERT_EQ(config->hosts.size(), 1u);
    const HostConfig& local = config->hosts.at("local");
    EXPECT_TRUE(local.emulated);
    EXPECT_EQ(local.kind, cosmos::core::HostKind::local);
    EXPECT_EQ(local.runtime, cosmos::core::RuntimeKind::native);
    EXPECT_EQ(local.gpus, 1);
    EXPECT_EQ(local.cosmos_dir, data / "emulator");
    EXPECT_EQ(local.torchrun, (data / "emulator/bin/torchrun").string());
    EXPECT_EQ(local.checkpoint_dir, data / "emulator/checkpoints");
    EXPECT_EQ(local.work_dir, data / "work");
    EXPECT_EQ(local.env.at("COSMOS_EMULATOR_TIME_SCALE"), "0.02");
    EXPECT_EQ(config->run.host, "local");
    EXPECT_EQ(config->run.num_steps, 35);
}

TEST_F(ConfigTest, XdgDirectoriesAreHonoured) {
    ConfigEnv::set("XDG_DATA_HOME", (root() / "xdg-data").string());
    ConfigEnv::set("XDG_CONFIG_HOME", (root() / "xdg-config").string());
    auto config = load_config({});
    ASSERT_TRUE(config.has_value()) << config.error().message;
    EXPECT_EQ(config->paths.data_dir, root() / "xdg-data/cosmos");
    EXPECT_EQ(config->paths.config_dir, root() / "xdg-config/cosmos");
}

TEST_F(ConfigTest, SearchOrderExplicitThenEnvThenCwdThenXdg) {
    ConfigEnv::set("XDG_CONFIG_HOME", (root() / "xdg").string());
    fs::path xdg = write("xdg/cosmos/config.toml", "[run]\nnum_steps = 4\n");
    fs::path cwd = write(work() / "cosmos.toml", "[run]\nnum_steps = 3\n");
    fs::path env = write("env.toml", "[run]\nnum_steps = 2\n");
    fs::path explicit_file = write("explicit.toml", "[run]\nnum_steps = 1\n");
    ConfigEnv::set("COSMOS_CONFIG", env.string());

    auto check = [&](const LoadOptions& options, int steps, const fs::path& source) {
        auto config = load_config(options);
        ASSERT_TRUE(config.has_value()) << config.error().message;
        EXPECT_EQ(config->run.num_steps, steps);
        EXPECT_EQ(real_path(config->source), real_path(source));
    };
    check(LoadOptions{explicit_file}, 1, explicit_file);
    check({}, 2, env);
    ConfigEnv::unset("COSMOS_CONFIG");
    check({}, 3, cwd);
    fs::remove(cwd);
    check({}, 4, xdg);
    fs::remove(xdg);
    auto defaults = load_config({});
    ASSERT_TRUE(defaults.has_value());
    EXPECT_TRUE(defaults->source.empty());
}

TEST_F(ConfigTest, MissingExplicitOrEnvFileIsNotFound) {
    write(work() / "cosmos.toml", "");  // must not be used as a fallback
    auto missing = load_config(LoadOptions{root() / "nope.toml"});
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, ErrorCode::not_found);
    EXPECT_NE(missing.error().message.find((root() / "nope.toml").string()), std::string::npos);

    ConfigEnv::set("COSMOS_CONFIG", (root() / "gone.toml").string());
    auto env = load_config({});
    ASSERT_FALSE(env.has_value());
    EXPECT_EQ(env.error().code, ErrorCode::not_found);
    EXPECT_NE(env.error().message.find("gone.toml"), std::string::npos);
}

TEST_F(ConfigTest, DataDirEnvironmentOverrideBeatsTheFile) {
    std::string text = "[paths]\ndata_dir = \"/srv/from-file\"\n";
    auto from_file = parse(text);
    ASSERT_TRUE(from_file.has_value()) << from_file.error().message;
    EXPECT_EQ(from_file->paths.data_dir, fs::path("/srv/from-file"));
    EXPECT_EQ(from_file->hosts.at("local").work_dir, fs::path("/srv/from-file/work"));

    ConfigEnv::set("COSMOS_DATA_DIR", (root() / "env-data").string());
    auto from_env = parse(text);
    ASSERT_TRUE(from_env.has_value()) << from_env.error().message;
    EXPECT_EQ(from_env->paths.data_dir, root() / "env-data");
    EXPECT_EQ(from_env->hosts.at("local").cosmos_dir, root() / "env-data/emulator");
}

TEST_F(ConfigTest, HostEnvironmentOverrideMustNameAConfiguredHost) {
    ConfigEnv::set("COSMOS_HOST", "gpu1");
    auto config = parse(std::string(k_ssh_host) + "\n[hosts.local]\n");
    ASSERT_TRUE(config.has_value()) << config.error().message;
    EXPECT_EQ(config->run.host, "gpu1");

    ConfigEnv::set("COSMOS_HOST", "nowhere");
    auto bad = parse("");
    ASSERT_FALSE(bad.has_value());
    EXPECT_NE(bad.error().message.find("$COSMOS_HOST names host 'nowhere'"), std::string::npos)
        << bad.error().message;
}

TEST_F(ConfigTest, RelativePathsResolveAgainstTheConfigFile) {
    auto config = parse(
        "[paths]\ndata_dir = \"data\"\n"
        "[hosts.box]\ncosmos_dir = \"../cosmos\"\n"
        "[hosts.remote]\nkind = \"ssh\"\naddress = \"10.0.0.2\"\nuser = \"me\"\n"
        "key = \"~/.ssh/id_ed25519\"\ncosmos_dir = \"cosmos-transfer1\"\n[run]\nhost = \"box\"\n");
    ASSERT_TRUE(config.has_value()) << config.error().message;
    EXPECT_EQ(config->paths.data_dir, root() / "data");
    const HostConfig& box = config->hosts.at("box");
    EXPECT_EQ(box.cosmos_dir, root().parent_path() / "cosmos");
    EXPECT_EQ(box.checkpoint_dir, root().parent_path() / "cosmos/checkpoints");
    EXPECT_EQ(box.work_dir, root() / "data/work");
    // A remote host's paths are remote paths, kept as written; its key is a local file.
    EXPECT_EQ(config->hosts.at("remote").ssh.key, home() / ".ssh/id_ed25519");
    EXPECT_EQ(config->hosts.at("remote").cosmos_dir, fs::path("cosmos-transfer1"));
    EXPECT_TRUE(config->hosts.at("remote").work_dir.empty());
}

TEST_F(ConfigTest, TildeInDataDirIsTheHomeDirectory) {
    auto config = parse("[paths]\ndata_dir = \"~/renders/cosmos\"\n");
    ASSERT_TRUE(config.has_value()) << config.error().message;
    EXPECT_EQ(config->paths.data_dir, home() / "renders/cosmos");
}

TEST_F(ConfigTest, FindHostListsConfiguredHostsWhenUnknown) {
    auto config = parse(std::string(k_ssh_host) + "[hosts.local]\n");
    ASSERT_TRUE(config.has_value()) << config.error().message;
    auto gpu1 = cosmos::config::find_host(*config, "gpu1");
    ASSERT_TRUE(gpu1.has_value());
    EXPECT_EQ(gpu1->ssh.address, "gpu1.example.com");
    auto missing = cosmos::config::find_host(*config, "x");
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, ErrorCode::not_found);
    EXPECT_EQ(missing.error().message, "unknown host 'x' (configured: gpu1, local)");
}

TEST_F(ConfigTest, DefaultNegativePromptIsTransferPyDefault) {
    std::string text = cosmos::config::k_default_negative_prompt;
    EXPECT_EQ(text.rfind("The video captures a game playing, with bad crappy graphics", 0), 0u);
    EXPECT_NE(text.find("of poor CG quality. There are many subtitles in the footage."),
              std::string::npos);
    EXPECT_EQ(Config{}.run.negative_prompt, text);
}

TEST_F(ConfigTest, HttpHostsNeedAUrlAndTakeOnlyServerSettings) {
    auto ok = parse(R"(
[hosts.c3]
kind = "http"
url = "http://10.0.0.5:8000/"
api_key_file = "c3.key"
protocol = "sglang"
role = "reasoner"
max_concurrent = 4
)");
    ASSERT_TRUE(ok) << ok.error().message;
    const auto& h = ok->hosts.at("c3");
    EXPECT_TRUE(h.serves());
    EXPECT_EQ(h.server.url, "http://10.0.0.5:8000");
    EXPECT_TRUE(h.server.api_key_file.is_absolute());
    EXPECT_EQ(h.server.protocol, "sglang");
    EXPECT_EQ(h.server.max_concurrent, 4);
    EXPECT_NE(error_of("[hosts.c3]\nkind = \"http\"\n").find("needs url"), std::string::npos);
    for (const char* bad :
         {"ftp://x:1", "http://", "https://", "http://a/path", "http://u@a:1", "x:1"}) {
        EXPECT_NE(error_of(fmt::format("[hosts.c3]\nkind = \"http\"\nurl = \"{}\"\n", bad))
                      .find("is not an http(s)://HOST[:PORT] address"),
                  std::string::npos)
            << bad;
    }
    // https: verified, against the system's CAs or a ca_file (which only https takes).
    auto tls = parse(
        "[hosts.c3]\nkind = \"http\"\nurl = \"https://c3.example:443\"\n"
        "ca_file = \"ca.pem\"\n");
    ASSERT_TRUE(tls) << tls.error().message;
    EXPECT_EQ(tls->hosts.at("c3").server.url, "https://c3.example:443");
    EXPECT_TRUE(tls->hosts.at("c3").server.ca_file.is_absolute());
    EXPECT_NE(error_of("[hosts.c3]\nkind = \"http\"\nurl = \"http://a:1\"\nca_file = \"c\"\n")
                  .find("ca_file applies to https urls only"),
              std::string::npos);
    EXPECT_NE(error_of("[hosts.c3]\nkind = \"http\"\nurl = \"http://a:1\"\naddress = \"b\"\n")
                  .find("sets address"),
              std::string::npos);
    EXPECT_NE(error_of("[hosts.c3]\nkind = \"http\"\nurl = \"http://a:1\"\nprotocol = \"tgi\"\n")
                  .find("not one of vllm-omni, sglang"),
              std::string::npos);
    EXPECT_NE(error_of("[hosts.box]\nkind = \"ssh\"\naddress = \"a\"\nuser = \"u\"\nurl = "
                       "\"http://a:1\"\n")
                  .find("which only http hosts"),
              std::string::npos);
}

TEST_F(ConfigTest, AServeTableMakesAnSshHostServe) {
    auto ok = parse(R"(
[hosts.box]
kind = "ssh"
address = "gpu2"
user = "me"

[hosts.box.serve]
command = ["vllm", "serve", "{model}", "--port", "{port}"]
idle_stop_s = 60
)");
    ASSERT_TRUE(ok) << ok.error().message;
    const auto& h = ok->hosts.at("box");
    EXPECT_TRUE(h.serves());
    EXPECT_EQ(h.server.model, "nvidia/Cosmos3-Nano");
    EXPECT_EQ(h.server.idle_stop_s, 60);
    EXPECT_NE(error_of("[hosts.l]\nkind = \"local\"\n[hosts.l.serve]\n")
                  .find("on ssh and slurm hosts only"),
              std::string::npos);
    // On slurm: the server is a job; it needs no model checkout.
    auto slurm = parse(
        "[hosts.c]\nkind = \"slurm\"\npartition = \"gpu\"\nwork_dir = "
        "\"/shared/c\"\ngpus = 8\n[hosts.c.serve]\nidle_stop_s = 600\n");
    ASSERT_TRUE(slurm) << slurm.error().message;
    EXPECT_TRUE(slurm->hosts.at("c").serves());
    EXPECT_EQ(slurm->hosts.at("c").server.model, "nvidia/Cosmos3-Nano");
    EXPECT_NE(error_of("[hosts.b]\nkind = \"ssh\"\naddress = \"a\"\nuser = \"u\"\n[hosts.b.serve]\n"
                       "idle_stop_s = 5\n")
                  .find("idle_stop_s 5 is out of range"),
              std::string::npos);
    EXPECT_NE(error_of("[hosts.b]\nkind = \"ssh\"\naddress = \"a\"\nuser = \"u\"\n[hosts.b.serve]\n"
                       "command = []\n")
                  .find("command is empty"),
              std::string::npos);
}
