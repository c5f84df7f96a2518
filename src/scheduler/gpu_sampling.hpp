#pragma once
// GPU usage while a host has work (docs/metrics.md "GPU samples"). Whoever follows a run holds a
// lease on its host for as long as it follows it; the first lease on a host starts ONE stream of
// `nvidia-smi --query-gpu=... -l N` through the host's connection (an SSH exec channel, or a
// process here for the local host), not a command per sample; the last lease ending stops it.
// Samples are buffered and written to the store every few seconds (store/gpu_samples.hpp), and a
// run records its mean and peak once it ends (record_run_gpu_usage).
//
// Hosts without GPUs of their own to sample are left alone: http hosts (someone else's server)
// and slurm hosts (the login node has no GPUs; Slurm's accounting covers the nodes).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "scheduler/app.hpp"
#include "store/gpu_samples.hpp"
#include "store/records.hpp"

namespace cosmos::scheduler {

class GpuSampler;

// Keeps its host sampled while it lives.
class GpuSamplingLease {
public:
    explicit GpuSamplingLease(std::shared_ptr<GpuSampler> sampler);
    GpuSamplingLease(GpuSamplingLease&&) noexcept = default;
    GpuSamplingLease& operator=(GpuSamplingLease&&) noexcept = default;
    GpuSamplingLease(const GpuSamplingLease&) = delete;
    GpuSamplingLease& operator=(const GpuSamplingLease&) = delete;
    ~GpuSamplingLease();

private:
    std::shared_ptr<GpuSampler> m_sampler;
};

// A lease on `host`'s sampling, or nullopt where the host is not sampled (its kind, or
// gpu_sample_every = 0).
std::optional<GpuSamplingLease> sample_gpus(const App& app, const config::HostConfig& host);

// Writes what `host`'s sampler (of the database `db`) has buffered now, before a run's usage is
// read.
void flush_gpu_samples(const store::Database& db, const std::string& host);

// The fields each sample asks nvidia-smi for, in order, and one line of its csv,noheader,nounits
// output read at `t_ms` ("0, 97, 60000, 81559, 612.50, 71"); nullopt for a line that is not a
// sample (a warning, a header). "[N/A]" power or temperature is left out.
const std::vector<std::string>& gpu_sample_fields();
std::optional<store::GpuSample> parse_gpu_sample(std::string_view line,
                                                 const std::string& host,
                                                 std::int64_t t_ms);

// "0,1" for the GPUs a job was given, or 0..num_gpus-1 when it was given none.
std::string held_gpus(const std::vector<int>& gpu_ids, int num_gpus);

// Records run `run`'s mean and peak GPU utilisation and peak memory over its run time (until
// now when it has not ended), from its host's samples of the GPUs it held; nothing when nothing
// was sampled. Called as it ends (scheduler::record_end).
core::Status record_run_gpu_usage(const store::Database& db, const store::RunRecord& run);

}  // namespace cosmos::scheduler
