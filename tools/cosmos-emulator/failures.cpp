#include "failures.hpp"

#include <algorithm>
#include <csignal>

#include "gpu_locks.hpp"
#include "pacing.hpp"
#include "python_error.hpp"

namespace cosmos::emulator {

core::Status inject_chunk_failure(TransferContext& ctx, const ChunkFailure& f) {
    const EmulatorConfig& c = ctx.config;
    bool low_memory = c.gpu_memory_gb < f.min_gpu_memory_gb && f.chunk == 1;
    bool chosen =
        c.fail != FailMode::none && c.fail != FailMode::guardrail && f.chunk == c.fail_at_chunk;
    if (!low_memory && !chosen) {
        return {};
    }
    core::Status slept = sleep_for(f.chunk_seconds / 2);
    if (!slept) {
        return slept;
    }
    if (low_memory || c.fail == FailMode::oom) {
        double total = c.gpu_memory_gb * 0.98988;
        double in_use = total - std::min(1.06, total / 2);
        return raise_py("torch.OutOfMemoryError",
                        cuda_oom_message(0, total, total - in_use, 0, 0, in_use),
                        f.where);
    }
    if (c.fail == FailMode::kill) {
        ctx.recorder.set_error("killed by SIGKILL");
        ctx.recorder.finish(-9);
        std::raise(SIGKILL);
    }
    return raise_py(
        "RuntimeError", "CUDA error: an illegal memory access was encountered", f.where);
}

}  // namespace cosmos::emulator
