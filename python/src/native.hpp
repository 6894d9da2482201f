// data_loader._native: the loader's core for the Python package. Each file binds one area;
// module.cpp calls every Bind* once.
#pragma once

#include <nanobind/nanobind.h>

namespace dl::python {

namespace nb = nanobind;

/// cli_main(argv): the data_loader command line, in-process.
void BindCli(nb::module_& m);
/// load_config, NativeConfig, configure_logging.
void BindConfig(nb::module_& m);
/// start_run, RunHandle, status_json.
void BindProcessor(nb::module_& m);
/// detect_environment, resource_plan, cluster_status, check_unity_catalog_names.
void BindCluster(nb::module_& m);

/// table_scan/table_describe/table_history: data_loader.table's native half.
void BindTable(nb::module_& m);

}  // namespace dl::python
