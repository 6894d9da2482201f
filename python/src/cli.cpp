// The command line in-process: `python -m data_loader.main ...` runs exactly what the
// data_loader executable runs, with its output and exit codes.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <string>
#include <vector>

#include "dl/cli/cli.hpp"
#include "native.hpp"

namespace dl::python {

void BindCli(nb::module_& m) {
  m.def(
      "cli_main",
      [](std::vector<std::string> args) {
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        // Loading runs without the GIL: other Python threads keep going. SIGINT/SIGTERM go
        // to the run (as with the executable) until it returns.
        nb::gil_scoped_release release;
        return cli::Main(static_cast<int>(args.size()), argv.data());
      },
      nb::arg("argv"),
      "Run the data_loader command line with argv (argv[0] is the program name); returns "
      "the exit code.");
}

}  // namespace dl::python
