// What cosmos parses from Slurm's commands (src/backends/slurm_job.cpp, slurm_runtime.cpp):
// sbatch's answer, squeue --json, scontrol show job, the jobcomp log and sacct lines, sinfo's
// nodes and GRES, squeue's partition view, and the Slurm runtime's status output that combines
// them. The first byte picks the parser (and an exit code); never a crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "backends/slurm_job.hpp"
#include "backends/slurm_runtime.hpp"
#include "runtime/runtime.hpp"

namespace {

using namespace cosmos::backends;

template <class F>
void each_line(std::string_view text, F f) {
    while (!text.empty()) {
        auto nl = text.find('\n');
        f(text.substr(0, nl));
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    }
}

void verdicts(const cosmos::core::Result<std::vector<SlurmJobStatus>>& jobs) {
    if (!jobs) {
        return;
    }
    for (const auto& job : *jobs) {
        auto v = slurm_verdict(job);
        (void)v;
        auto name = slurm_state_name(job.state);
        (void)name;
    }
    if (!jobs->empty()) {
        auto mine = slurm_jobs_of(*jobs, jobs->front().job_id);
        (void)mine;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const int exit_code = data[0] >> 5;
    std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 8) {
        case 0: {
            auto id = parse_sbatch_output(text);
            (void)id;
            break;
        }
        case 1:
            verdicts(parse_squeue_json(text));
            break;
        case 2:
            verdicts(parse_scontrol_show_job(text));
            break;
        case 3:
            each_line(text, [](std::string_view line) {
                auto job = parse_jobcomp_line(line);
                auto acct = parse_sacct_line(line);
                auto state = parse_slurm_state(line);
                (void)job, (void)acct, (void)state;
            });
            break;
        case 4: {
            auto nodes = parse_sinfo_nodes(text);
            (void)nodes;
            each_line(text, [](std::string_view line) {
                int n = gres_gpu_count(line);
                (void)n;
            });
            break;
        }
        case 5: {
            auto queue = parse_squeue_partition(text);
            (void)queue;
            break;
        }
        default: {
            static const auto rt = make_slurm_runtime(SlurmSettings{});
            auto seen = rt->parse_status(exit_code, text);
            (void)seen;
        }
    }
    return 0;
}
