#include "pacing.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <thread>

#include "python_error.hpp"

namespace cosmos::emulator {

namespace {

volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_signal(int sig) {
    g_signal = sig;
}

}  // namespace

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

int interrupted_signal() {
    return static_cast<int>(g_signal);
}

core::Status check_interrupted() {
    if (g_signal != 0) {
        return interrupted_by(g_signal);
    }
    return {};
}

core::Status sleep_for(double seconds) {
    using clock = std::chrono::steady_clock;
    auto end = clock::now() + std::chrono::duration_cast<clock::duration>(
                                  std::chrono::duration<double>(std::max(0.0, seconds)));
    while (true) {
        core::Status st = check_interrupted();
        if (!st) {
            return st;
        }
        auto now = clock::now();
        if (now >= end) {
            return {};
        }
        std::this_thread::sleep_for(
            std::min<clock::duration>(end - now, std::chrono::milliseconds(50)));
    }
}

}  // namespace cosmos::emulator
