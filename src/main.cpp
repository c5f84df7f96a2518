#include "cli/cli_main.hpp"

int main(int argc, char** argv) {
    return cosmos::cli::run(argc, argv);
}
