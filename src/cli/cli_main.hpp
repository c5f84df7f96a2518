#pragma once

namespace cosmos::cli {

// Parses argv, runs the command and returns the process exit code (docs/errors.md).
int run(int argc, char** argv);

}  // namespace cosmos::cli
