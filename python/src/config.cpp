// Config loading for data_loader.config: the command line's rules (config module + SQL
// fragment check), with the problems handed over as (line, key path, message) tuples.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <tuple>

#include "dl/cli/output.hpp"
#include "dl/cli/run_session.hpp"
#include "dl/common/logging.hpp"
#include "native_config.hpp"

namespace dl::python {
namespace {

using Problem = std::tuple<int, std::string, std::string>;
/// (config or None, problems, message): problems empty and message set when the failure
/// has no key (e.g. an unreadable file).
using LoadResult = std::tuple<std::optional<NativeConfig>, std::vector<Problem>, std::string>;

LoadResult Load(const std::string& file, const std::string& text, const std::string& source,
                const std::string& overrides) {
  std::vector<config::ConfigProblem> problems;
  Result<config::LoaderConfig> cfg = [&] {
    nb::gil_scoped_release release;  // the SQL fragment check starts an engine
    return cli::LoadCheckedConfig(file, text, source, &problems, overrides);
  }();
  if (cfg.ok()) {
    return {NativeConfig{std::make_shared<const config::LoaderConfig>(std::move(*cfg))}, {}, ""};
  }
  std::vector<Problem> out;
  for (auto& p : problems) out.emplace_back(p.line, p.path, p.message);
  return {std::nullopt, std::move(out), cfg.status().message()};
}

// Per table: the resolved settings (as `validate`'s JSON), its display name and path.
std::string TablesJson(const NativeConfig& c) {
  const config::LoaderConfig& cfg = *c.cfg;
  auto tables = nlohmann::ordered_json::parse(config::ToRedactedJson(cfg))["tables"];
  for (size_t i = 0; i < cfg.tables.size(); ++i) {
    tables[i]["_display_name"] = config::DisplayName(cfg, cfg.tables[i]);
    tables[i]["_table_path"] = config::TablePath(cfg, cfg.tables[i]);
    tables[i]["_line"] = cfg.tables[i].line;
  }
  return tables.dump();
}

}  // namespace

void Raise(const Status& status, const config::LoaderConfig* cfg) {
  std::string message = cfg ? config::RedactEnvValues(*cfg, status.message()) : status.message();
  if (cli::ExitCode(status) == 2) throw nb::value_error(message.c_str());
  throw std::runtime_error(message);
}

void BindConfig(nb::module_& m) {
  nb::class_<NativeConfig>(m, "NativeConfig", "A loaded and validated config (native).")
      .def_prop_ro("source_name", [](const NativeConfig& c) { return c.cfg->source_name; })
      .def(
          "to_json", [](const NativeConfig& c) { return config::ToRedactedJson(*c.cfg); },
          "The resolved config as JSON (values from ${ENV} as ***).")
      .def("tables_json", &TablesJson, "Per table: resolved settings, display name, path.")
      .def("tracker_path", [](const NativeConfig& c) { return config::TrackerPath(*c.cfg); });
  m.def("load_config", &Load, nb::arg("file"), nb::arg("text"), nb::arg("source"),
        nb::arg("overrides") = "",
        "Load a config file (file) or text (text, named source) with the CLI's rules, "
        "top-level keys of overrides (JSON) replacing the document's; returns "
        "(config or None, [(line, key path, message)], message).");
  m.def(
      "configure_logging",
      [](const std::string& level, const std::string& format) {
        auto parsed = log::ParseLevel(level);
        if (!parsed) throw nb::value_error(("unknown log level " + level).c_str());
        log::Configure(*parsed, format == "json" ? log::Format::kJson : log::Format::kText);
      },
      nb::arg("level"), nb::arg("format") = "text",
      "Set the process's log level (DEBUG, INFO, WARNING, ERROR) and format (text, json).");
}

}  // namespace dl::python
