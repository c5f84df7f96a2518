#include "env_checks.hpp"

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "gpu_locks.hpp"
#include "python_error.hpp"

namespace cosmos::emulator {

namespace {

const char* env(const char* name) {
    return std::getenv(name);
}

}  // namespace

core::Status check_import() {
    std::error_code ec;
    std::filesystem::path cwd = std::filesystem::current_path(ec);
    std::stringstream entries(env("PYTHONPATH") != nullptr ? env("PYTHONPATH") : "");
    std::string entry;
    bool any = env("PYTHONPATH") != nullptr;
    while (any && std::getline(entries, entry, ':')) {
        std::filesystem::path dir = entry.empty() ? cwd : cwd / entry;
        if (std::filesystem::is_directory(dir / "cosmos_transfer1", ec)) {
            return {};
        }
    }
    return raise_py("ModuleNotFoundError", "No module named 'cosmos_transfer1'", "<module>");
}

int visible_gpus(const EmulatorConfig& config) {
    return static_cast<int>(visible_devices(config).size());
}

core::Status check_distributed(const TransferArgs& args, const EmulatorConfig& config) {
    std::int64_t n = args.num_gpus;
    if (n != 1 && n != 2 && n != 4 && n != 8) {
        return raise_py("ValueError",
                        fmt::format("num_gpus must be 1, 2, 4 or 8 for context parallel "
                                    "inference, got {}",
                                    n));
    }
    const char* rank = env("RANK");
    if ((n > 1 || args.upsample_prompt) && rank == nullptr) {
        return raise_py("KeyError", "'RANK'", "demo>distributed.init>__getitem__");
    }
    const char* world = env("WORLD_SIZE");
    std::int64_t world_size = world != nullptr ? std::atoll(world) : 1;
    if (world_size != n) {
        return raise_py("RuntimeError",
                        fmt::format("world_size ({}) is not equal to context_parallel_size ({}): "
                                    "--num_gpus must match torchrun --nproc_per_node",
                                    world_size,
                                    n),
                        "demo>initialize_model_parallel");
    }
    int visible = visible_gpus(config);
    if (visible == 0) {
        return raise_py("RuntimeError", "No CUDA GPUs are available", "demo>set_device");
    }
    if (visible < n) {
        return raise_py("RuntimeError",
                        "CUDA error: invalid device ordinal\nCUDA kernel errors might be "
                        "asynchronously reported at some other API call, so the stacktrace "
                        "below might be incorrect.",
                        "demo>set_device");
    }
    return {};
}

}  // namespace cosmos::emulator
