// What the `table` verbs share with the Python package's data_loader.table: a table path opened
// with its storage, an engine session locked down to it, and the scan, describe and history
// results every front end prints or hands over the same way.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/delta/snapshot.hpp"
#include "dl/engine/engine.hpp"
#include "dl/storage/file_system.hpp"
#include "dl/storage/storage_options.hpp"
#include "dl/table/table.hpp"

namespace dl::cli {

struct TableArgs {
  std::string path;
  bool json = false;
  std::optional<int64_t> version;
  std::optional<int64_t> from_version, to_version;  ///< changes
  std::string timestamp;
  std::optional<int64_t> limit;
  std::string output = "/dev/stdout";
  std::string format;
  std::string columns;
  std::string order_by;
  std::string where;
  std::string column, new_name;        ///< rename-column / drop-column / widen-column
  std::string type;                    ///< widen-column
  std::string constraint, expression;  ///< add-constraint / drop-constraint
  std::string where_name = "--where";  ///< how errors name the filter
  std::vector<std::string> sources;
  std::string mode = "append";
  std::vector<std::string> partition_by;
  std::vector<std::string> cluster_by;
  std::string schema_evolution = "none";
  std::vector<std::string> properties;  // KEY=VALUE
  int64_t target_size = 128LL << 20;
  std::vector<std::string> zorder_by, sort_by;
  bool dry_run = false, force = false;
  std::optional<double> retention_hours;
  std::vector<std::string> storage_options;  // KEY=VALUE
  // Set once the path is resolved: storage for every location of the command, and the
  // option values to mask in error texts.
  StorageConfig storage;
  std::shared_ptr<FileSystem> fs;
  std::set<std::string> masked;
};

// Every verb needs a filesystem and an engine (checkpoints are Parquet). The engine reaches
// only the table (PATH) and `files` (sources, output), and --where is an allowed expression.
struct Session {
  FileSystem* fs = nullptr;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<table::TableContext> ctx;
};

/// Resolve `a.path` as a location (file:, dbfs: and object stores with a backend; other
/// schemes refused) and make the storage of the command from `a.storage_options`. A backend
/// that cannot be made with the options (no credentials) is a config error naming PATH and
/// the scheme; no request is made here.
Status OpenStorage(TableArgs& a);

/// An engine that reaches only the table (and `files`), after checking `a.where` is an
/// allowed expression.
Result<Session> OpenSession(const TableArgs& a, std::vector<std::string> files = {});

/// The snapshot `a` asks for: latest, `a.version` or `a.timestamp`.
Result<std::shared_ptr<const delta::Snapshot>> SnapshotFor(Session& s, const TableArgs& a);

/// Register the snapshot `a` asks for as a view and return the SELECT of `table scan`:
/// `columns` (all when empty, each checked against the schema), `a.where`, `a.order_by`,
/// `a.limit`.
Result<std::string> PrepareScan(Session& s, const TableArgs& a,
                                const std::vector<std::string>& columns);

/// The SELECT of `table changes`: the change data feed of versions a.from_version through
/// a.to_version (the latest when unset), see table::ChangeFeed.
Result<std::string> PrepareChanges(Session& s, const TableArgs& a);

/// `table describe --json` of `snapshot`.
nlohmann::ordered_json DescribeJson(const TableArgs& a, const delta::Snapshot& snapshot);
/// `table history --json`: newest first, at most `a.limit` commits.
Result<nlohmann::ordered_json> HistoryJson(const TableArgs& a);

/// `st` with every storage option value of the command masked.
Status MaskStatus(const Status& st, const std::set<std::string>& masked);

/// Comma-separated items, trimmed, empty ones dropped.
std::vector<std::string> SplitList(const std::string& s);

}  // namespace dl::cli
