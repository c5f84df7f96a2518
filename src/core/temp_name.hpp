#pragma once
// Names for the temporary file an atomic write renames into place. Every writer in cosmos writes
// `<file>.tmp-...` next to the file and renames it over: the name must differ between processes
// *and* between threads of one process (a worker runs several jobs at once, each may write the
// same script or state file), or one writer's rename takes the other's half-written file away.

#include <string>
#include <string_view>

namespace cosmos::core {

// `path` + ".tmp-<pid>-<counter>-<random>": unique per call in this process and, with the
// random part, against other processes and machines sharing a file system (Slurm shared dirs).
std::string temp_sibling(std::string_view path);

}  // namespace cosmos::core
