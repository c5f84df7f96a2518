// cosmos-emulator: the stand-in for Cosmos-Transfer1, Cosmos-Transfer2.5 and Cosmos 3 on machines
// without their GPUs (docs/emulator.md). Modes: torchrun, transfer, upsampler, transfer25, vllm,
// sglang, nvidia-smi.
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "gpu_locks.hpp"
#include "log.hpp"
#include "nvidia_smi.hpp"
#include "pacing.hpp"
#include "record.hpp"
#include "server.hpp"
#include "torchrun.hpp"
#include "transfer.hpp"
#include "transfer25.hpp"
#include "upsampler.hpp"

namespace {

constexpr std::string_view k_usage =
    "usage: cosmos-emulator torchrun [torchrun options] SCRIPT [script args]\n"
    "       cosmos-emulator transfer [transfer.py args]\n"
    "       cosmos-emulator upsampler [upsampler_pipeline.py args]\n"
    "       cosmos-emulator transfer25 [examples/inference.py args]     (Cosmos-Transfer2.5)\n"
    "       cosmos-emulator vllm serve MODEL (--omni | --hf-overrides JSON) [--port N] "
    "[--host ADDR]\n"
    "            [--api-key K] [--allowed-local-media-path P] [...]     (Cosmos 3 server)\n"
    "       cosmos-emulator sglang serve --model-path MODEL [--port N] [--host ADDR] "
    "[--api-key K]\n"
    "            [--num-gpus N]                                          (Cosmos 3 generator)\n"
    "       cosmos-emulator nvidia-smi [-L | --query-gpu=FIELDS "
    "--format=csv[,noheader][,nounits]]\n"
    "       cosmos-emulator --version\n"
    "Stands in for NVIDIA Cosmos-Transfer1, Cosmos-Transfer2.5 and Cosmos 3 (see docs/emulator.md "
    "for "
    "COSMOS_EMULATOR_* "
    "variables).\n";

int run(const std::string& argv0, const std::vector<std::string>& argv) {
    using namespace cosmos::emulator;
    if (argv.empty() || argv[0] == "-h" || argv[0] == "--help") {
        print_stderr(k_usage);
        return argv.empty() ? 2 : 0;
    }
    if (argv[0] == "--version") {
        print_stdout("cosmos-emulator " COSMOS_VERSION "\n");
        return 0;
    }
    auto config = load_config();
    if (!config) {
        print_stderr(config.error().message + "\n");
        return 2;
    }
    config->gpu_lock_dir = gpu_lock_dir(argv0).string();
    const std::string& mode = argv[0];
    std::vector<std::string> rest(argv.begin() + 1, argv.end());
    if (mode == "vllm" || mode == "sglang") {  // servers: their own record lines (server.hpp)
        return run_server(
            mode == "vllm" ? ServerFlavour::vllm : ServerFlavour::sglang, rest, *config);
    }
    Recorder recorder(config->record_path, mode, rest);
    install_signal_handlers();
    GpuHold gpus;  // held from model load to exit (the kernel drops the locks if we die)
    int code = 2;
    if (mode == "torchrun") {
        code = run_torchrun(rest, *config, recorder, gpus);
    } else if (mode == "transfer") {
        TransferContext ctx{*config, recorder, transfer_script_path(), gpus};
        code = run_transfer(rest, ctx);
    } else if (mode == "upsampler") {
        TransferContext ctx{*config, recorder, upsampler_script_path(), gpus};
        code = run_upsampler(rest, ctx);
    } else if (mode == "transfer25") {
        TransferContext ctx{*config, recorder, transfer25_script_path(), gpus};
        code = run_transfer25(rest, ctx);
    } else if (mode == "nvidia-smi") {
        code = run_nvidia_smi(rest, *config);
    } else {
        print_stderr("cosmos-emulator: unknown mode '" + mode + "'\n" + std::string(k_usage));
        return 2;
    }
    recorder.end_hold();  // the recorded hold lies within the real one: end before unlocking
    gpus.release();
    recorder.finish(code);
    return code;
}
}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc > 0 ? argv[0] : "", std::vector<std::string>(argv + 1, argv + argc));
    } catch (const std::exception& e) {
        cosmos::emulator::print_stderr(std::string("cosmos-emulator: internal error: ") + e.what() +
                                       "\n");
        return 70;
    }
}
