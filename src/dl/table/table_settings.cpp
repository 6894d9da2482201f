#include "dl/table/table_settings.hpp"

#include "dl/delta/clustering.hpp"
#include "dl/delta/column_mapping.hpp"
#include "dl/delta/constraints.hpp"
#include "dl/delta/row_tracking.hpp"
#include "dl/table/table_internal.hpp"

namespace dl::table {

Result<bool> SetTableProperties(const delta::StringMap& wanted, delta::StringMap* configuration,
                                const std::string& root) {
  bool changed = false;
  for (const auto& [key, value] : wanted) {
    auto it = configuration->find(key);
    if (it != configuration->end() && it->second == value) continue;
    if (key.starts_with(delta::kConstraintPrefix)) {
      // The rows already in the table must be checked first.
      return Status::Unsupported(
          "table {}: a CHECK constraint ({}) cannot be added to an existing table by a write; "
          "use `data_loader table add-constraint`, which checks the rows already there",
          root, key);
    }
    if (key == delta::kEnableRowTrackingKey || key == delta::kRowIdColumnKey ||
        key == delta::kRowCommitVersionColumnKey) {
      // Enabling it needs a row id on every existing file first (a backfill).
      return Status::Unsupported(
          "table {}: the table property {} of an existing table cannot be changed by a write; "
          "enable row tracking when the table is created, or with Spark's ALTER TABLE ... SET "
          "TBLPROPERTIES",
          root, key);
    }
    if (key == delta::kColumnMappingModeKey || key == delta::kMaxColumnIdKey) {
      // Existing files name columns as they are; a new mode would need every column mapped.
      return Status::Unsupported(
          "table {}: the table property {} of an existing table cannot be changed by a write "
          "(Spark's ALTER TABLE ... SET TBLPROPERTIES can)",
          root, key);
    }
    (*configuration)[key] = value;
    changed = true;
  }
  return changed;
}

Status CheckClusteredBy(const delta::Snapshot& snapshot, const std::vector<std::string>& wanted,
                        const std::string& root) {
  if (wanted.empty()) return Status::OK();
  std::vector<std::string> have;
  if (delta::IsClustered(snapshot.protocol())) {
    DL_ASSIGN_OR_RETURN(have,
                        delta::ClusteringColumns(snapshot.domains(), snapshot.schema(), root));
  }
  if (have == wanted) return Status::OK();
  return Status::Config(
      "{}: table {} is {}, not by {}; clustering is set when a table is created (change it "
      "with Spark's ALTER TABLE ... CLUSTER BY)",
      kClusteringKey, root,
      have.empty() ? std::string("not clustered") : "clustered by " + internal::JsonList(have),
      internal::JsonList(wanted));
}

}  // namespace dl::table
