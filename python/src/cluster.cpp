// Cluster mode for data_loader.cluster: environment detection, the resource plan and
// cluster-status, through the command line's own functions.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>

#include <optional>
#include <tuple>

#include "dl/catalog/uc_names.hpp"
#include "dl/cli/cluster_command.hpp"
#include "native_config.hpp"

namespace dl::python {

void BindCluster(nb::module_& m) {
  m.def(
      "detect_environment",
      [](const std::optional<NativeConfig>& config) {
        nb::gil_scoped_release release;
        cluster::Environment env = config
                                       ? cli::DetectFor(*config->cfg)
                                       : cluster::DetectEnvironment({}, config::ClusterSettings{});
        return cli::EnvironmentJson(env).dump();
      },
      nb::arg("config") = nb::none(),
      "The environment as cluster-status --json reports it (with the config's cluster: "
      "settings when given).");
  m.def(
      "resource_plan",
      [](const NativeConfig& config) {
        nb::gil_scoped_release release;
        return cli::PlanJson(cluster::PlanResources(cli::DetectFor(*config.cfg), *config.cfg))
            .dump();
      },
      nb::arg("config"), "The resource plan run-cluster would use.");
  m.def(
      "cluster_status",
      [](const NativeConfig& config) {
        Result<cli::ClusterStatusReport> report = [&] {
          nb::gil_scoped_release release;
          return cli::CollectClusterStatus(*config.cfg);
        }();
        if (!report.ok()) Raise(report.status(), config.cfg.get());
        return std::make_tuple(report->json, report->text, report->critical);
      },
      nb::arg("config"), "cluster-status: (JSON, text, health is critical).");
  m.def(
      "check_unity_catalog_names",
      [](const NativeConfig& config) -> std::optional<std::string> {
        config::LoaderConfig cfg = *config.cfg;
        cfg.use_unity_catalog = true;
        Status st = catalog::ValidateUcNames(cfg);
        if (st.ok()) return std::nullopt;
        return st.message();
      },
      nb::arg("config"),
      "None when every table has a valid Unity Catalog name (as run-cluster --unity-catalog "
      "checks), else the problems.");
}

}  // namespace dl::python
