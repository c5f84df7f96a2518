#include "gpu_locks.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include "nvidia_smi.hpp"
#include "python_error.hpp"

namespace cosmos::emulator {

namespace fs = std::filesystem;

namespace {

// nvidia-smi's probes take a shared lock for a moment; a run that finds its GPU locked tries
// again for this long before it calls the GPU full.
constexpr auto k_probe_grace = std::chrono::milliseconds(300);
constexpr double k_held_fraction = 0.9;  // share of the memory a run holding the model uses

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

fs::path lock_file(const fs::path& dir, int index) {
    return dir / fmt::format("gpu{}.lock", index);
}

std::string trim(const std::string& s) {
    auto first = s.find_first_not_of(' ');
    return first == std::string::npos ? "" : s.substr(first, s.find_last_not_of(' ') - first + 1);
}

// The physical index `entry` of CUDA_VISIBLE_DEVICES names, or -1.
int device_of(const std::string& entry, int gpus) {
    if (entry.starts_with("GPU-")) {
        int found = -1;
        for (int i = 0; i < gpus; ++i) {
            if (gpu_uuid(i).starts_with(entry)) {
                if (found >= 0) {
                    return -1;  // ambiguous prefix
                }
                found = i;
            }
        }
        return found;
    }
    if (entry.empty() || entry.size() > 6 ||
        entry.find_first_not_of("0123456789") != std::string::npos) {
        return -1;
    }
    int n = std::stoi(entry);
    return n < gpus ? n : -1;
}

GpuHolder read_holder(int fd) {
    char buf[64] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    GpuHolder h;
    if (n > 0) {
        std::istringstream in(std::string(buf, static_cast<std::size_t>(n)));
        in >> h.pid >> h.since_ms;
    }
    return h;
}

double gib(long mib) {
    return static_cast<double>(mib) / 1024.0;
}

}  // namespace

fs::path gpu_lock_dir(std::string_view argv0) {
    if (const char* given = std::getenv("COSMOS_EMULATOR_GPU_DIR"); given != nullptr && *given) {
        return given;
    }
    std::error_code ec;
    fs::path exe = argv0.find('/') != std::string_view::npos
                       ? fs::absolute(fs::path(argv0), ec).lexically_normal()
                       : fs::read_symlink("/proc/self/exe", ec);
    if (!ec && exe.parent_path().filename() == ".emulator") {
        return exe.parent_path() / "gpus";
    }
    return fs::path("/tmp") / fmt::format("cosmos-emulator-gpus-{}", ::getuid());
}

namespace {

// The GPU indexes Slurm allocated to job `job_id` ("GRES=gpu:2(IDX:0-1)" in `scontrol show job
// -d`), or nothing when scontrol cannot tell.
std::vector<int> slurm_job_gpus(const std::string& job_id, int gpus) {
    std::vector<int> out;
    if (job_id.empty() || job_id.find_first_not_of("0123456789") != std::string::npos) {
        return out;
    }
    std::string cmd = "scontrol show job -d " + job_id + " 2>/dev/null";
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (pipe == nullptr) {
        return out;
    }
    std::string text;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) {
        text.append(buf, n);
    }
    ::pclose(pipe);
    auto at = text.find("(IDX:");
    if (at == std::string::npos) {
        return out;
    }
    std::string list = text.substr(at + 5, text.find(')', at) - at - 5);
    std::stringstream items(list);
    std::string item;
    while (std::getline(items, item, ',')) {
        int first = 0, last = 0;
        if (std::sscanf(item.c_str(), "%d-%d", &first, &last) == 2) {
        } else if (std::sscanf(item.c_str(), "%d", &first) == 1) {
            last = first;
        } else {
            continue;
        }
        for (int i = first; i <= last && i < gpus; ++i) {
            out.push_back(i);
        }
    }
    return out;
}

}  // namespace

std::vector<int> visible_devices(const EmulatorConfig& config) {
    std::vector<int> out;
    const char* cvd = std::getenv("CUDA_VISIBLE_DEVICES");
    const char* slurm_job = std::getenv("SLURM_JOB_ID");
    if (cvd == nullptr && slurm_job != nullptr) {
        // A Slurm job on a node whose GPU devices are stand-in files (the test cluster): Slurm
        // allocated GPU indexes but set no CUDA_VISIBLE_DEVICES, which on a real node its
        // cgroup binding would. Ask Slurm which indexes the job holds, as that binding would.
        out = slurm_job_gpus(slurm_job, config.gpus);
        if (!out.empty()) {
            return out;
        }
    }
    if (cvd == nullptr) {
        for (int i = 0; i < config.gpus; ++i) {
            out.push_back(i);
        }
        return out;
    }
    // CUDA stops at the first entry it cannot use; a device listed twice is an error for it too.
    std::stringstream list(cvd);
    std::string entry;
    while (std::getline(list, entry, ',')) {
        int index = device_of(trim(entry), config.gpus);
        if (index < 0 || std::find(out.begin(), out.end(), index) != out.end()) {
            break;
        }
        out.push_back(index);
    }
    return out;
}

std::optional<GpuHolder> gpu_holder(const fs::path& dir, int index) {
    int fd = ::open(lock_file(dir, index).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return std::nullopt;
    }
    std::optional<GpuHolder> holder;
    if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
        holder = errno == EWOULDBLOCK ? std::optional<GpuHolder>(read_holder(fd)) : std::nullopt;
    } else {
        ::flock(fd, LOCK_UN);
    }
    ::close(fd);
    return holder;
}

long gpu_memory_total_mib(const EmulatorConfig& config) {
    return std::lround(config.gpu_memory_gb * 81559.0 / 80.0);
}

long gpu_memory_held_mib(const EmulatorConfig& config) {
    return std::lround(static_cast<double>(gpu_memory_total_mib(config)) * k_held_fraction);
}

std::string cuda_oom_message(int ordinal,
                             double total_gib,
                             double free_gib,
                             long other_pid,
                             double other_gib,
                             double mine_gib) {
    std::string other =
        other_pid > 0
            ? fmt::format("Process {} has {:.2f} GiB memory in use. ", other_pid, other_gib)
            : "";
    return fmt::format(
        "CUDA out of memory. Tried to allocate 4.39 GiB. GPU {} has a total capacity of {:.2f} "
        "GiB of which {:.2f} GiB is free. {}Including non-PyTorch memory, this process has "
        "{:.2f} GiB memory in use. Of the allocated memory {:.2f} GiB is allocated by PyTorch, "
        "and 1.41 GiB is reserved by PyTorch but unallocated. If reserved but unallocated memory "
        "is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid "
        "fragmentation.  See documentation for Memory Management  "
        "(https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)",
        ordinal,
        total_gib,
        free_gib,
        other,
        mine_gib,
        std::max(0.0, mine_gib - 2.9));
}

core::Status GpuHold::acquire(const EmulatorConfig& config, int count, std::string_view where) {
    if (held()) {
        return {};
    }
    std::vector<int> visible = visible_devices(config);
    if (visible.empty()) {
        return raise_py("RuntimeError", "No CUDA GPUs are available", "demo>set_device");
    }
    if (static_cast<int>(visible.size()) < count) {
        return raise_py("RuntimeError",
                        "CUDA error: invalid device ordinal\nCUDA kernel errors might be "
                        "asynchronously reported at some other API call, so the stacktrace "
                        "below might be incorrect.",
                        "demo>set_device");
    }
    const fs::path dir = config.gpu_lock_dir;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        return raise_py("RuntimeError",
                        fmt::format("cosmos-emulator: cannot create the GPU lock directory {}: {} "
                                    "(set COSMOS_EMULATOR_GPU_DIR)",
                                    dir.string(),
                                    ec.message()),
                        where);
    }
    const std::string stamp = fmt::format("{} {}\n", ::getpid(), now_ms());
    for (int ordinal = 0; ordinal < count; ++ordinal) {
        const int index = visible[static_cast<std::size_t>(ordinal)];
        const fs::path path = lock_file(dir, index);
        int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EACCES) {
            // Another user's lock file (say, created by a container's root): flock needs no
            // write access, only the holder stamp is lost.
            fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        }
        if (fd < 0) {
            std::string why = std::strerror(errno);
            release();
            return raise_py("RuntimeError",
                            fmt::format("cosmos-emulator: cannot open the GPU lock {}: {} (set "
                                        "COSMOS_EMULATOR_GPU_DIR)",
                                        path.string(),
                                        why),
                            where);
        }
        auto deadline = std::chrono::steady_clock::now() + k_probe_grace;
        while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EWOULDBLOCK) {
                std::string why = std::strerror(errno);
                ::close(fd);
                release();
                return raise_py(
                    "RuntimeError",
                    fmt::format("cosmos-emulator: cannot lock {}: {}", path.string(), why),
                    where);
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                GpuHolder holder = read_holder(fd);
                ::close(fd);
                release();
                double total = gib(gpu_memory_total_mib(config));
                double other = gib(gpu_memory_held_mib(config));
                double mine = std::min(1.5, total - other);
                return raise_py(
                    "torch.OutOfMemoryError",
                    cuda_oom_message(ordinal, total, total - other - mine, holder.pid, other, mine),
                    where);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (::ftruncate(fd, 0) == 0) {
            [[maybe_unused]] ssize_t n = ::pwrite(fd, stamp.data(), stamp.size(), 0);
        }
        m_fds.push_back(fd);
        m_devices.push_back(index);
    }
    return {};
}

void GpuHold::release() {
    for (int fd : m_fds) {
        ::flock(fd, LOCK_UN);
        ::close(fd);
    }
    m_fds.clear();
    m_devices.clear();
}

}  // namespace cosmos::emulator
