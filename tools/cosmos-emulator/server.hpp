#pragma once
// The Cosmos 3 server modes: `cosmos-emulator vllm serve ...` and `cosmos-emulator sglang
// serve ...` (docs/emulator.md "Cosmos 3 server mode"). Loads the model once (holding its GPUs),
// binds, serves until SIGTERM / SIGINT, and exits 0 after a graceful shutdown.

#include <string>
#include <vector>

#include "config.hpp"
#include "server_args.hpp"

namespace cosmos::emulator {

// Runs the server; returns the exit code (2: usage error, 1: load or bind failure, 0: shut
// down by a signal).
int run_server(ServerFlavour flavour, const std::vector<std::string>& argv, EmulatorConfig& config);

}  // namespace cosmos::emulator
