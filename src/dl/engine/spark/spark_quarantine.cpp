// on_bad_rows: quarantine on Spark. Spark commits the target itself, with the userMetadata
// fixed before its MERGE runs, so the bad rows are written first as plain Parquet files into a
// new directory of the quarantine table (no Delta commit: Spark's Delta writer would commit
// them at once, before the target commit that records them). The caller lists and records
// them; our Delta module commits them to the quarantine table after the target commit, as on
// DuckDB (strategy/companion.hpp).
#include <fmt/format.h>

#include "dl/engine/spark/spark_load.hpp"
#include "dl/engine/spark/spark_plan.hpp"

namespace dl::engine::spark {

Result<std::optional<std::string>> SeparateNullKeys(
    SparkSession& session, const AppendOperation& op,
    const std::optional<QuarantineRows>& quarantine, const std::string& view,
    const std::vector<std::string>& keys, const std::optional<std::string>& sequence_column) {
  if (!quarantine) {
    DL_RETURN_IF_ERROR(CheckNullKeys(session, op, view, keys, sequence_column));
    return std::optional<std::string>();
  }
  const NullKeyTests tests = NullKeysOf(keys, sequence_column);
  DL_ASSIGN_OR_RETURN(auto counted, session.Sql(fmt::format("SELECT count(1) FROM {} WHERE {}",
                                                            SparkIdent(view), tests.any_null)));
  if (counted.rows.empty() || counted.rows[0].empty() ||
      counted.rows[0][0].value_or("0") == "0") {
    return std::optional<std::string>();
  }
  std::string source_file;
  if (!quarantine->source_file_column.empty()) {
    source_file = fmt::format(", {} AS {}", SparkIdent(kFileColumn),
                              SparkIdent(quarantine->source_file_column));
  }
  const std::string rows = WithoutHiddenColumns(fmt::format(
      "SELECT *{}, {} AS `_quarantine_reason`, timestamp_millis({}) AS `_quarantined_at` FROM "
      "{} WHERE {}",
      source_file, tests.reason, op.load_time_ms, SparkIdent(view), tests.any_null));
  pb::Plan plan;
  auto* w = plan.mutable_command()->mutable_write_operation();
  *w->mutable_input() = SqlRelation(rows);
  w->set_source("parquet");
  w->set_path(quarantine->dir);
  w->set_mode(pb::WriteOperation::SAVE_MODE_ERROR_IF_EXISTS);
  // Only the data files in the directory (the caller lists it).
  (*w->mutable_options())["mapreduce.fileoutputcommitter.marksuccessfuljobs"] = "false";
  DL_RETURN_IF_ERROR(session.Execute(plan).status());
  DL_ASSIGN_OR_RETURN(std::string user_metadata, quarantine->record());
  DL_RETURN_IF_ERROR(CreateView(
      session, view,
      SqlRelation(fmt::format("SELECT * FROM {} WHERE NOT {}", SparkIdent(view), tests.any_null))));
  return std::optional<std::string>(std::move(user_metadata));
}

}  // namespace dl::engine::spark
