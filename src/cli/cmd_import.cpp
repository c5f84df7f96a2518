// `cosmos import PATH...` — wired when services/import_legacy lands.

#include <CLI/CLI.hpp>

#include "cli/context.hpp"

namespace cosmos::cli {

void add_import_command(CLI::App&, Context&) {}

}  // namespace cosmos::cli
