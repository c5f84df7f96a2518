#include "nvidia_smi.hpp"

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "gpu_locks.hpp"
#include "log.hpp"
#include "pacing.hpp"

namespace cosmos::emulator {

namespace {

constexpr std::string_view k_name = "NVIDIA H100 80GB HBM3 (emulated)";
constexpr std::string_view k_driver = "570.124.06";

struct Query {
    std::vector<std::string> fields;
    bool csv = false, header = true, units = true, list = false, query = false;
    long loop_ms = 0;  // -l N / -lms N: query again every so often until killed
};

// A loop interval as nvidia-smi takes it: a positive whole number.
std::optional<long> loop_value(const std::string& v) {
    if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    long n = std::stol(v);
    return n > 0 ? std::optional<long>(n) : std::nullopt;
}

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, sep)) {
        auto first = item.find_first_not_of(' ');
        out.push_back(first == std::string::npos ? "" : item.substr(first));
    }
    return out;
}

// One field's value for GPU `i` (`busy`: a run holds its lock); std::nullopt for a field
// nvidia-smi would refuse.
std::optional<std::string> field(
    const std::string& f, int i, bool busy, const EmulatorConfig& c, bool units) {
    std::string mib = units ? " MiB" : "";
    const long total = gpu_memory_total_mib(c);
    const long used = busy ? gpu_memory_held_mib(c) : 0;
    if (f == "index") {
        return std::to_string(i);
    }
    if (f == "timestamp") {  // nvidia-smi's form: 2026/12/07 17:52:29.123
        auto now = std::chrono::system_clock::now();
        std::time_t secs = std::chrono::system_clock::to_time_t(now);
        auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
        std::tm local{};
        localtime_r(&secs, &local);
        char buf[32];
        std::strftime(buf, sizeof buf, "%Y/%m/%d %H:%M:%S", &local);
        return fmt::format("{}.{:03d}", buf, static_cast<int>(ms.count()));
    }
    if (f == "name" || f == "gpu_name") {
        return std::string(k_name);
    }
    if (f == "uuid" || f == "gpu_uuid") {
        return gpu_uuid(i);
    }
    if (f == "memory.total") {
        return fmt::format("{}{}", total, mib);
    }
    if (f == "memory.used") {
        return fmt::format("{}{}", used, mib);
    }
    if (f == "memory.free") {
        return fmt::format("{}{}", total - used, mib);
    }
    // A held GPU works at 88-99 %, varying from second to second like a real diffusion loop
    // (denoising steps, then VAE decode); an idle one reads 0 %, ~70 W and 34 C.
    const int wobble = busy ? static_cast<int>((std::time(nullptr) * 7 + i * 3) % 12) : 0;
    if (f == "utilization.gpu") {
        std::string pct = std::to_string(busy ? 88 + wobble : 0);
        return units ? pct + " %" : pct;
    }
    if (f == "power.draw") {
        double watts = busy ? 520.0 + 15.0 * wobble : 71.5;
        return units ? fmt::format("{:.2f} W", watts) : fmt::format("{:.2f}", watts);
    }
    if (f == "temperature.gpu") {
        return std::to_string(busy ? 62 + wobble : 34);
    }
    if (f == "driver_version") {
        return std::string(k_driver);
    }
    if (f == "count") {
        return std::to_string(c.gpus);
    }
    return std::nullopt;
}

std::string header(const std::string& f, bool units) {
    if (!units) {
        return f;
    }
    if (f.starts_with("memory.")) {
        return f + " [MiB]";
    }
    if (f == "power.draw") {
        return f + " [W]";
    }
    return f == "utilization.gpu" ? f + " [%]" : f;
}

// Parses the arguments; returns an error text for ones nvidia-smi would refuse.
std::optional<std::string> parse(const std::vector<std::string>& args, Query& q) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string a = args[i];
        std::string value;
        auto eq = a.find('=');
        std::string name = a.substr(0, eq);
        if (name == "-L" || name == "--list-gpus") {
            q.list = true;
            continue;
        }
        if (name == "-l" || name == "--loop" || name == "-lms" || name == "--loop-ms") {
            if (eq != std::string::npos) {
                value = a.substr(eq + 1);
            } else if (i + 1 < args.size()) {
                value = args[++i];
            }
            auto n = loop_value(value);
            if (!n) {
                return fmt::format(
                    "Invalid value \"{}\" for {}. Please run 'nvidia-smi -h' for help.",
                    value,
                    name);
            }
            q.loop_ms = name == "-l" || name == "--loop" ? *n * 1000 : *n;
            continue;
        }
        if (name != "--query-gpu" && name != "--format") {
            return fmt::format(
                "Invalid combination of input arguments. Please run "
                "'nvidia-smi -h' for help. ({})",
                a);
        }
        if (eq != std::string::npos) {
            value = a.substr(eq + 1);
        } else if (i + 1 < args.size()) {
            value = args[++i];
        }
        if (name == "--query-gpu") {
            q.query = true;
            q.fields = split(value, ',');
            continue;
        }
        for (const std::string& opt : split(value, ',')) {
            if (opt == "csv") {
                q.csv = true;
            } else if (opt == "noheader") {
                q.header = false;
            } else if (opt == "nounits") {
                q.units = false;
            } else {
                return fmt::format("\"{}\" is not a valid format option.", opt);
            }
        }
    }
    if (q.query && !q.csv) {
        return std::string("--format=csv is required with --query-gpu.");
    }
    if (q.loop_ms > 0 && !q.query) {
        return std::string("-l and -lms are taken here only with --query-gpu.");
    }
    return std::nullopt;
}

int print_query(const Query& q, const EmulatorConfig& c) {
    std::string out;
    for (const std::string& f : q.fields) {
        if (!field(f, 0, false, c, q.units)) {
            print_stderr(fmt::format("Field \"{}\" is not a valid field to query.\n\n", f));
            return 2;
        }
    }
    if (q.header) {  // once, also when looping (as nvidia-smi does)
        std::vector<std::string> names;
        for (const std::string& f : q.fields) {
            names.push_back(header(f, q.units));
        }
        out += fmt::format("{}\n", fmt::join(names, ", "));
    }
    for (;;) {
        // A GPU is busy while a run holds its lock, so the values follow the load.
        for (int i = 0; i < c.gpus; ++i) {
            const bool busy = gpu_holder(c.gpu_lock_dir, i).has_value();
            std::vector<std::string> values;
            for (const std::string& f : q.fields) {
                values.push_back(*field(f, i, busy, c, q.units));
            }
            out += fmt::format("{}\n", fmt::join(values, ", "));
        }
        print_stdout(out);  // a closed pipe ends the loop (SIGPIPE), as for nvidia-smi
        out.clear();
        if (q.loop_ms <= 0 || std::ferror(stdout) != 0) {
            return 0;
        }
        // SIGTERM / SIGINT end the loop at once, by the signal, as they end nvidia-smi (the
        // emulator's own handlers only note them).
        if (!sleep_for(static_cast<double>(q.loop_ms) / 1000.0)) {
            int sig = interrupted_signal();
            std::signal(sig, SIG_DFL);
            std::raise(sig);
            return 128 + sig;
        }
    }
}

}  // namespace

std::string gpu_uuid(int index) {
    return fmt::format("GPU-c05305e0-{:04x}-4e1a-9c7d-{:012x}", index, 0x5eed0000ULL + index);
}

int run_nvidia_smi(const std::vector<std::string>& args, const EmulatorConfig& config) {
    Query q;
    if (auto error = parse(args, q)) {
        print_stderr(*error + "\n");
        return 2;
    }
    if (config.gpus == 0) {
        print_stdout("No devices were found\n");
        return 6;
    }
    if (q.query) {
        return print_query(q, config);
    }
    std::string out;
    for (int i = 0; i < config.gpus; ++i) {
        out += fmt::format("GPU {}: {} (UUID: {})\n", i, k_name, gpu_uuid(i));
    }
    if (!q.list) {
        out = fmt::format("NVIDIA-SMI {}    Driver Version: {}    CUDA Version: 12.8\n{}",
                          k_driver,
                          k_driver,
                          out);
    }
    print_stdout(out);
    return 0;
}

}  // namespace cosmos::emulator
