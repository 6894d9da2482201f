#include "dl/cli/cli.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace dl::cli {

int Main(int argc, char** argv) {
  CLI::App app{"data_loader: load files into Delta Lake tables, exactly once"};
  app.set_version_flag("--version", std::string("data_loader 0.1.0"));
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  return 0;
}

}  // namespace dl::cli
