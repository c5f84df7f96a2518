#pragma once
// The emulated GPUs' occupancy: a run that holds the model holds an exclusive flock(2) on one
// lock file per GPU it uses, in a per-machine lock directory, from model load to exit. The
// kernel drops the locks when the process dies (also on SIGKILL), so a crashed run never leaves
// a GPU "full". A second run on a held GPU fails with CUDA out of memory, as the real model does;
// nvidia-smi reports held GPUs as busy. See docs/emulator.md "GPUs and their locks".

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "core/result.hpp"

namespace cosmos::emulator {

// The lock directory: $COSMOS_EMULATOR_GPU_DIR when set; else, when the emulator was started as
// <checkout>/.emulator/cosmos-emulator (what the installed wrappers exec; `argv0` as given, or
// /proc/self/exe when argv0 holds no '/'), <checkout>/.emulator/gpus; else
// /tmp/cosmos-emulator-gpus-<uid>.
std::filesystem::path gpu_lock_dir(std::string_view argv0);

// The physical indices of the devices the process sees, in CUDA's order: CUDA_VISIBLE_DEVICES's
// entries (indices, or GPU UUIDs / unique UUID prefixes as nvidia-smi prints them) up to the
// first one that names no device of the COSMOS_EMULATOR_GPUS; without the variable, 0..GPUS-1.
std::vector<int> visible_devices(const EmulatorConfig& config);

// What the holder of a GPU's lock wrote into it.
struct GpuHolder {
    long pid = 0;
    std::int64_t since_ms = 0;  // ms since the epoch
};

// The holder of physical GPU `index` in `dir`, or nullopt when the GPU is free. Probes with a
// shared non-blocking flock on its own open file description, released at once.
std::optional<GpuHolder> gpu_holder(const std::filesystem::path& dir, int index);

// The GPU memory (MiB) nvidia-smi reports in total and in use by a run holding the model.
long gpu_memory_total_mib(const EmulatorConfig& config);
long gpu_memory_held_mib(const EmulatorConfig& config);

// PyTorch's CUDA out-of-memory text (after "torch.OutOfMemoryError: ") for device `ordinal` (as
// the process numbers it) with `free_gib` free, `other_pid` (0: none) holding `other_gib`, and
// this process holding `mine_gib`.
std::string cuda_oom_message(int ordinal,
                             double total_gib,
                             double free_gib,
                             long other_pid,
                             double other_gib,
                             double mine_gib);

// The GPUs one invocation holds. Not copyable; releases on destruction.
class GpuHold {
public:
    GpuHold() = default;
    GpuHold(const GpuHold&) = delete;
    GpuHold& operator=(const GpuHold&) = delete;
    ~GpuHold() { release(); }

    // Locks the first `count` visible devices in `config.gpu_lock_dir`, all or none. Fails like
    // CUDA: "No CUDA GPUs are available" / "invalid device ordinal" (RuntimeError) when fewer are
    // visible, torch.OutOfMemoryError naming the holder when one is held by another run (after
    // a short grace for nvidia-smi's probes), RuntimeError when the lock files can't be opened.
    // Doing it again while holding is a no-op.
    core::Status acquire(const EmulatorConfig& config, int count, std::string_view where);

    // Unlocks and closes every lock file.
    void release();

    bool held() const { return !m_fds.empty(); }
    // The physical indices held, in CUDA order.
    const std::vector<int>& devices() const { return m_devices; }

private:
    std::vector<int> m_fds;
    std::vector<int> m_devices;
};

}  // namespace cosmos::emulator
