#include "torchrun.hpp"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <optional>
#include <system_error>

#include <unistd.h>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "env_checks.hpp"
#include "log.hpp"
#include "transfer.hpp"
#include "transfer25.hpp"
#include "upsampler.hpp"

namespace cosmos::emulator {

namespace {

constexpr std::string_view k_transfer_script = "cosmos_transfer1/diffusion/inference/transfer.py";
constexpr std::string_view k_usage =
    "usage: torchrun [-h] [--nnodes NNODES] [--nproc-per-node NPROC_PER_NODE]\n"
    "                [--node-rank NODE_RANK] [--master-addr MASTER_ADDR]\n"
    "                [--master-port MASTER_PORT] [--standalone]\n"
    "                training_script ...\n";

struct TorchrunOptions {
    std::map<std::string, std::string> values;  // canonical name (underscores) -> value
    bool standalone = false;
    std::string script;
    std::vector<std::string> script_args;
};

struct UsageFailure {
    std::string message;
};

const std::vector<std::string> k_valued = {
    "nproc_per_node", "nnodes", "node_rank", "master_addr", "master_port"};

// Parses torchrun's own options up to the script; returns the failure text on error.
std::optional<UsageFailure> parse(const std::vector<std::string>& args, TorchrunOptions& out) {
    std::size_t i = 0;
    for (; i < args.size() && args[i].starts_with("-"); ++i) {
        const std::string& token = args[i];
        auto eq = token.find('=');
        std::string name = token.substr(0, eq);
        std::string canon = name.substr(name.find_first_not_of('-'));
        std::replace(canon.begin(), canon.end(), '-', '_');
        if (canon == "standalone" && eq == std::string::npos) {
            out.standalone = true;
            continue;
        }
        if (std::find(k_valued.begin(), k_valued.end(), canon) == k_valued.end()) {
            return UsageFailure{"unrecognized arguments: " + token};
        }
        if (eq != std::string::npos) {
            out.values[canon] = token.substr(eq + 1);
        } else if (i + 1 < args.size()) {
            out.values[canon] = args[++i];
        } else {
            return UsageFailure{fmt::format("argument {}: expected one argument", name)};
        }
    }
    if (i == args.size()) {
        return UsageFailure{
            "the following arguments are required: training_script, "
            "training_script_args"};
    }
    out.script = args[i];
    out.script_args.assign(args.begin() + static_cast<long>(i) + 1, args.end());
    return std::nullopt;
}

std::optional<int> parse_count(const std::string& text) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
        text.size() > 6) {
        return std::nullopt;
    }
    return std::stoi(text);
}

void warn_omp_threads() {
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    std::string prefix = fmt::format(
        "W{:%m%d %H:%M:%S}.000000 {} torch/distributed/run.py:792] ", local, ::getpid());
    print_stderr(prefix + "\n" + prefix + "*****************************************\n" + prefix +
                 "Setting OMP_NUM_THREADS environment variable for each process to be 1 in "
                 "default, to avoid your system being overloaded, please further tune the "
                 "variable for optimal performance in your application as needed. \n" +
                 prefix + "*****************************************\n");
}

void report_child_failure(const std::string& script, int exit_code, int node_rank) {
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char host[256] = "localhost";
    ::gethostname(host, sizeof host - 1);
    print_stderr(fmt::format(
        "Traceback (most recent call last):\n"
        "  File \"/usr/local/bin/torchrun\", line 8, in <module>\n"
        "    sys.exit(main())\n"
        "  File \"/usr/local/lib/python3.12/dist-packages/torch/distributed/run.py\", line 892, "
        "in main\n    run(args)\n"
        "  File \"/usr/local/lib/python3.12/dist-packages/torch/distributed/launcher/api.py\", "
        "line 270, in launch_agent\n    raise ChildFailedError(\n"
        "torch.distributed.elastic.multiprocessing.errors.ChildFailedError: \n"
        "============================================================\n"
        "{} FAILED\n"
        "------------------------------------------------------------\n"
        "Failures:\n  <NO_OTHER_FAILURES>\n"
        "------------------------------------------------------------\n"
        "Root Cause (first observed failure):\n[0]:\n"
        "  time      : {:%Y-%m-%d_%H:%M:%S}\n  host      : {}\n"
        "  rank      : {} (local_rank: 0)\n  exitcode  : {} (pid: {})\n"
        "  error_file: <N/A>\n"
        "  traceback : To enable traceback see: "
        "https://pytorch.org/docs/stable/elastic/errors.html\n"
        "============================================================\n",
        script,
        local,
        host,
        node_rank,
        exit_code,
        ::getpid()));
}

std::string value_or(const TorchrunOptions& o, const std::string& key, const std::string& def) {
    auto it = o.values.find(key);
    return it != o.values.end() ? it->second : def;
}

// The number of workers: --nproc_per_node N, "gpu"/"auto" (the visible GPUs); only one node.
std::optional<int> world_size(const TorchrunOptions& o,
                              const EmulatorConfig& config,
                              std::string& failure) {
    std::string nproc_text = value_or(o, "nproc_per_node", "1");
    std::optional<int> nproc = nproc_text == "gpu" || nproc_text == "auto"
                                   ? std::optional<int>(visible_gpus(config))
                                   : parse_count(nproc_text);
    std::string nnodes = value_or(o, "nnodes", "1");
    std::optional<int> node_rank = parse_count(value_or(o, "node_rank", "0"));
    if (!nproc || *nproc < 1 || (nnodes != "1" && nnodes != "1:1") || !node_rank ||
        *node_rank != 0) {
        failure = fmt::format(
            "cosmos-emulator: torchrun: only a single node is emulated "
            "(--nnodes=1 --node_rank=0, --nproc_per_node N >= 1); got "
            "nproc_per_node={} nnodes={} node_rank={}",
            nproc_text,
            nnodes,
            value_or(o, "node_rank", "0"));
        return std::nullopt;
    }
    return nproc;
}

// The script resolved against the cwd, as python does; empty with `failure` set when missing
// or not the one script the emulator stands in for.
std::filesystem::path resolve_script(const std::string& given, std::string& failure) {
    std::error_code ec;
    std::filesystem::path script = std::filesystem::absolute(given, ec);
    if (!std::filesystem::is_regular_file(script, ec)) {
        failure = fmt::format(
            "/usr/bin/python3: can't open file {}: [Errno 2] No such file or "
            "directory",
            py_repr(script.string()));
        return {};
    }
    std::string normal = script.lexically_normal().string();
    if (!normal.ends_with(k_transfer_script) && !normal.ends_with(k_upsampler_script) &&
        !normal.ends_with(k_transfer25_script)) {
        failure = fmt::format("cosmos-emulator: torchrun: only {}, {} and {} are emulated, not {}",
                              k_transfer_script,
                              k_upsampler_script,
                              k_transfer25_script,
                              given);
        return {};
    }
    return script;
}

void set_worker_env(const TorchrunOptions& o, int world) {
    ::setenv("WORLD_SIZE", std::to_string(world).c_str(), 1);
    ::setenv("RANK", "0", 1);
    ::setenv("LOCAL_RANK", "0", 1);
    ::setenv("LOCAL_WORLD_SIZE", std::to_string(world).c_str(), 1);
    ::setenv("GROUP_RANK", "0", 1);
    ::setenv("ROLE_RANK", "0", 1);
    ::setenv("ROLE_NAME", "default", 1);
    ::setenv("TORCHELASTIC_USE_AGENT_STORE", "True", 1);
    ::setenv("TORCHELASTIC_MAX_RESTARTS", "0", 1);
    ::setenv("TORCHELASTIC_RUN_ID", "none", 1);
    ::setenv("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1", 0);
    ::setenv("TORCHELASTIC_ERROR_FILE", "/tmp/torchelastic_error.json", 1);
    ::setenv("MASTER_ADDR", value_or(o, "master_addr", "127.0.0.1").c_str(), 1);
    ::setenv("MASTER_PORT", value_or(o, "master_port", "29500").c_str(), 1);
    if (world > 1) {
        warn_omp_threads();
        ::setenv("OMP_NUM_THREADS", "1", 0);
    }
}

}  // namespace

int run_torchrun(const std::vector<std::string>& args,
                 const EmulatorConfig& config,
                 Recorder& recorder,
                 GpuHold& gpus) {
    TorchrunOptions opts;
    if (auto usage = parse(args, opts)) {
        print_stderr(std::string(k_usage) + "torchrun: error: " + usage->message + "\n");
        recorder.set_error(usage->message);
        return 2;
    }
    std::string failure;
    std::optional<int> world = world_size(opts, config, failure);
    std::filesystem::path script;
    if (world) {
        script = resolve_script(opts.script, failure);
    }
    if (!failure.empty()) {
        print_stderr(failure + "\n");
        recorder.set_error(failure);
        return 2;
    }
    set_worker_env(opts, *world);
    TransferContext ctx{config, recorder, script.string(), gpus};
    const std::string normal = script.lexically_normal().string();
    int code = normal.ends_with(k_upsampler_script)    ? run_upsampler(opts.script_args, ctx)
               : normal.ends_with(k_transfer25_script) ? run_transfer25(opts.script_args, ctx)
                                                       : run_transfer(opts.script_args, ctx);
    if (code == 0 || code == 130 || code == 143) {
        return code;
    }
    report_child_failure(opts.script, code, 0);
    return 1;
}

}  // namespace cosmos::emulator
