#pragma once
// The failures a run can be told to have in one chunk of its generation (COSMOS_EMULATOR_FAIL
// crash / oom / kill at COSMOS_EMULATOR_FAIL_AT_CHUNK) or gets from too little GPU memory; shared
// by both emulated models.

#include <cstdint>
#include <string_view>

#include "core/result.hpp"
#include "transfer.hpp"

namespace cosmos::emulator {

struct ChunkFailure {
    std::int64_t chunk = 1;         // the chunk about to run (1-based)
    double chunk_seconds = 0;       // its modelled duration; a failure strikes half-way
    double min_gpu_memory_gb = 28;  // below this, chunk 1 runs out of memory
    std::string_view where;         // the call chain tracebacks show
};

// Fails the chunk as configured: torch.OutOfMemoryError (oom, or too little memory),
// RuntimeError "illegal memory access" (crash), or SIGKILL to itself (kill, after recording the
// invocation with exit code -9). Returns success when the chunk has no failure.
core::Status inject_chunk_failure(TransferContext& ctx, const ChunkFailure& failure);

}  // namespace cosmos::emulator
