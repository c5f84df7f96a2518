#pragma once
// Failpoints: named places in the run engine where a test can have this process killed
// (SIGKILL, as a crash or `kill -9` would) to prove that no run is lost or executed twice when
// a worker dies there (tests/integration/test_faults.py, docs/testing.md). They are inert unless
// COSMOS_FAILPOINTS names them: a comma-separated list of NAME or NAME@N (the N-th time the
// process reaches NAME; default the first).
//
//   stage     after the first input of a job was staged, before the rest
//   launch    after the model was launched on the host, before the run says so
//   watch     at the first progress the model reports
//   collect   after the first output file came home, before the others
//   split     after the first run of a batch was recorded, before the others

#include <string_view>

namespace cosmos::core {

void failpoint(std::string_view name);

}  // namespace cosmos::core
