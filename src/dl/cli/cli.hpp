// The data_loader command line (CLI11): maps commands to modules and Status to exit codes.
#pragma once

namespace dl::cli {

/// Exit codes: 0 success, 1 some work failed, 2 config or usage error, 3 unmet dependency.
int Main(int argc, char** argv);

}  // namespace dl::cli
