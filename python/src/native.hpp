// data_loader._native: the loader's core for the Python package. Each file binds one area;
// module.cpp calls every Bind* once.
#pragma once

#include <nanobind/nanobind.h>

namespace dl::python {

namespace nb = nanobind;

/// cli_main(argv): the data_loader command line, in-process.
void BindCli(nb::module_& m);

/// table_scan/table_describe/table_history: data_loader.table's native half.
void BindTable(nb::module_& m);

}  // namespace dl::python
