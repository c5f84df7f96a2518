#include "cli/cli_main.hpp"

namespace cosmos::cli {

int run(int, char**) { return 0; }

}  // namespace cosmos::cli
