#pragma once
// Modelled time: sleeps in short slices so SIGINT / SIGTERM end the emulated run promptly.

#include "core/result.hpp"

namespace cosmos::emulator {

// Routes SIGINT and SIGTERM to a flag that the functions below check.
void install_signal_handlers();

// The signal (SIGINT or SIGTERM) that arrived, 0 when none.
int interrupted_signal();

// Fails with interrupted_by(signal) once SIGINT or SIGTERM has arrived.
core::Status check_interrupted();

// Sleeps `seconds` (<= 0: not at all) in slices of at most 50 ms; fails with interrupted_by()
// as soon as a signal arrives.
core::Status sleep_for(double seconds);

}  // namespace cosmos::emulator
