#pragma once
// The emulated Cosmos-Transfer2.5 `python examples/inference.py -i SPEC.json -o OUTDIR [options]`
// (docs/models/transfer2.5.md, docs/emulator.md "Cosmos-Transfer2.5").

#include <string>
#include <vector>

#include "transfer.hpp"

namespace cosmos::emulator {

// The script's path relative to the checkout root.
inline constexpr const char* k_transfer25_script = "examples/inference.py";

// Runs the script with its arguments (sys.argv[1:]) and returns its exit status: 0 (also when
// the guardrail blocked samples under --keep-going), 1 (Python exception, pydantic validation
// error, a blocked sample under --no-keep-going), 2 (usage), 130 / 143 (SIGINT / SIGTERM).
int run_transfer25(const std::vector<std::string>& argv, TransferContext& ctx);

// The script path tracebacks name in transfer25 mode: $COSMOS_EMULATOR_SCRIPT (set by the
// installed wrapper), else cwd/examples/inference.py.
std::string transfer25_script_path();

}  // namespace cosmos::emulator
