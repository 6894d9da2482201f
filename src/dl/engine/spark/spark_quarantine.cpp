// on_bad_rows: quarantine on Spark. Spark commits the target itself, with the userMetadata
// fixed before its MERGE runs, so the bad rows are written first as plain Parquet files into a
// new directory of the quarantine table (no Delta commit: Spark's Delta writer would commit
// them at once, before the target commit that records them). The caller lists and records
// them; our Delta module commits them to the quarantine table after the target commit, as on
// DuckDB (strategy/companion.hpp). The files take the quarantine table's types
// (WithQuarantineTypes), as DuckDB's are aligned to it.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dl/engine/spark/spark_load.hpp"
#include "dl/engine/spark/spark_plan.hpp"

namespace dl::engine::spark {
namespace {

// `rows` with the quarantine table's types (QuarantineRows): a column whose type is narrower
// than the table's is cast up to it (lossless); one the table lacks that Spark inferred as a csv
// `int` becomes `bigint`, as the DuckDB engine infers it. Other types are Spark's: the
// caller's record step widens the table or refuses them, as on DuckDB.
Result<std::string> WithQuarantineTypes(SparkSession& session, const AppendOperation& op,
                                        const QuarantineRows& quarantine,
                                        const std::string& rows) {
  DL_ASSIGN_OR_RETURN(auto columns, ColumnsOf(session, rows));
  std::vector<std::string> items;
  bool cast = false;
  for (const auto& c : columns) {
    const std::string type = AlignedType(c, quarantine.columns, InferredTypes(op));
    const std::string name = SparkIdent(c.name);
    items.push_back(type.empty() ? name : fmt::format("CAST({0} AS {1}) AS {0}", name, type));
    cast = cast || !type.empty();
  }
  if (!cast) return rows;
  return fmt::format("SELECT {} FROM ({})", fmt::join(items, ", "), rows);
}

}  // namespace

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
  const std::string all = fmt::format(
      "SELECT *{}, {} AS `_quarantine_reason`, timestamp_millis({}) AS `_quarantined_at` FROM "
      "{} WHERE {}",
      source_file, tests.reason, op.load_time_ms, SparkIdent(view), tests.any_null);
  DL_ASSIGN_OR_RETURN(auto columns, ColumnsOf(session, all));
  const std::string rows = WithoutHiddenColumns(all, columns);
  DL_ASSIGN_OR_RETURN(std::string typed, WithQuarantineTypes(session, op, *quarantine, rows));
  pb::Plan plan;
  auto* w = plan.mutable_command()->mutable_write_operation();
  *w->mutable_input() = SqlRelation(typed);
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
