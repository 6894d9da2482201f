// data_loader: the command-line entry point.
#include "dl/cli/cli.hpp"

int main(int argc, char** argv) { return dl::cli::Main(argc, argv); }
