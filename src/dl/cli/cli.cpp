#include "dl/cli/cli.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "dl/cli/cluster_command.hpp"
#include "dl/cli/run_command.hpp"
#include "dl/cli/status_command.hpp"
#include "dl/cli/table_command.hpp"

namespace dl::cli {
namespace {

// CLI11 names the option whose value it refused; when that value came from the option's
// DATALOADER_* variable (job runner mode), name the variable too.
void NameTheVariable(CLI::App& app, const std::string& what) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    for (const CLI::Option* opt : sub->get_options()) {
      const std::string& var = opt->get_envname();
      const char* value = var.empty() ? nullptr : std::getenv(var.c_str());
      if (value && *value && what.find(opt->get_name()) != std::string::npos &&
          what.find(value) != std::string::npos) {
        std::cerr << "error: " << var << "=" << value << " (" << opt->get_name() << "): ";
        return;
      }
    }
  }
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"data_loader: load files into Delta Lake tables, exactly once"};
  app.set_version_flag("--version", std::string("data_loader 0.1.0"));
  app.require_subcommand(1);
  int exit_code = 0;
  AddRunCommands(app, exit_code);
  AddStatusCommand(app, exit_code);
  AddTableCommand(app, exit_code);
  AddClusterCommands(app, exit_code);
  // Job runner mode: no arguments and a config in the environment run DATALOADER_COMMAND
  // (run-cluster unless it says run); every option then comes from DATALOADER_* variables.
  std::vector<std::string> job_args;
  const bool env_config =
      std::getenv("DATALOADER_CONFIG_FILE") || std::getenv("DATALOADER_CONFIG_JSON");
  if (argc == 1 && env_config) {
    const char* command = std::getenv("DATALOADER_COMMAND");
    std::string name = command && *command ? command : "run-cluster";
    if (name != "run" && name != "run-cluster") {
      std::cerr << "error: DATALOADER_COMMAND must be run or run-cluster, not '" << name << "'\n";
      return 2;
    }
    job_args = {name};
  }
  try {
    if (!job_args.empty()) {
      std::vector<std::string> reversed(job_args.rbegin(), job_args.rend());
      app.parse(reversed);
    } else {
      app.parse(argc, argv);
    }
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() != 0) NameTheVariable(app, e.what());
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;  // usage errors exit 2
  }
  return exit_code;
}

}  // namespace dl::cli
