#include "dl/engine/spark/spark_load.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dl/common/logging.hpp"
#include "dl/engine/engine.hpp"
#include "dl/engine/spark/spark_plan.hpp"
#include "dl/engine/spark/spark_table.hpp"

namespace dl::engine::spark {
namespace {

constexpr const char* kBatchView = "__dl_batch";

}  // namespace

pb::Plan WritePlan(const AppendOperation& op, pb::Relation input) {
  pb::Plan plan;
  auto* w = plan.mutable_command()->mutable_write_operation();
  *w->mutable_input() = std::move(input);
  w->set_source("delta");
  w->set_path(op.table_root);
  w->set_mode(op.mode == WriteMode::kAppend ? pb::WriteOperation::SAVE_MODE_APPEND
                                             : pb::WriteOperation::SAVE_MODE_OVERWRITE);
  for (const auto& c : op.partition_columns) w->add_partitioning_columns(c);
  auto& o = *w->mutable_options();
  if (op.mode == WriteMode::kOverwritePartitions) o["partitionOverwriteMode"] = "dynamic";
  if (op.replace_where) o["replaceWhere"] = *op.replace_where;
  if (!op.txn_app_id.empty()) {  // a companion table's write carries no batch
    o["txnAppId"] = op.txn_app_id;
    o["txnVersion"] = std::to_string(op.txn_version);
    o["userMetadata"] = op.user_metadata;
  }
  o["mergeSchema"] = op.merge_schema ? "true" : "false";
  return plan;
}

namespace {

// replace_where: the predicate analyses over the batch and the table, and holds for every
// batch row (as on DuckDB: a violating batch fails before anything is written, its message
// showing the predicate as `configured`).
Status CheckReplaceWhere(SparkSession& session, const AppendOperation& op, const std::string& view,
                         const std::string& configured) {
  const std::string& predicate = *op.replace_where;
  std::vector<std::string> relations = {SparkIdent(view)};
  if (op.table_columns) relations.push_back("delta." + SparkIdent(op.table_root));
  for (const auto& relation : relations) {
    auto bound = ColumnsOf(session, fmt::format("SELECT ({}) IS TRUE FROM {}", predicate, relation));
    if (!bound.ok()) return FragmentError(bound.status(), "replace_where", op);
  }
  DL_ASSIGN_OR_RETURN(auto counted,
                      session.Sql(fmt::format("SELECT count_if(({}) IS NOT TRUE), count(1) FROM {}",
                                              predicate, SparkIdent(view))));
  const std::string bad = counted.rows.at(0).at(0).value_or("0");
  if (bad == "0") return Status::OK();
  return ReplaceWhereViolated(bad, counted.rows.at(0).at(1).value_or("?"), op.display_name,
                              configured);
}

}  // namespace

Result<Ranked> RankedQuery(const AppendOperation& op, const std::string& view,
                           const std::vector<Column>& columns) {
  const Dedup& d = *op.dedup;
  const std::vector<std::string> data = DataColumns(op, columns);
  const std::vector<std::string>& keys = d.keys.empty() ? data : d.keys;
  for (const auto& k : keys) DL_RETURN_IF_ERROR(CheckPresent(data, k, d.keys_key, op));
  std::vector<std::string> partition, order;
  for (const auto& k : keys) partition.push_back(SparkIdent(k));
  if (d.sequence_column) {
    DL_RETURN_IF_ERROR(CheckPresent(data, *d.sequence_column, "sequence_column", op));
    order.push_back(SparkIdent(*d.sequence_column) + " DESC NULLS LAST");
  }
  const char* dir = d.last_wins ? " DESC" : "";
  order.push_back(SparkIdent(kFileOrderColumn) + dir);
  order.push_back(SparkIdent(kRowOrderColumn) + dir);
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(c.name);
  return Ranked{
      fmt::format("SELECT *, row_number() OVER (PARTITION BY {} ORDER BY {}) AS {} FROM {}",
                  fmt::join(partition, ", "), fmt::join(order, ", "), SparkIdent(kRankColumn),
                  SparkIdent(view)),
      keys, std::move(names)};
}

namespace {

std::string SelectList(const std::vector<std::string>& names) {
  std::vector<std::string> quoted;
  for (const auto& n : names) quoted.push_back(SparkIdent(n));
  return fmt::format("{}", fmt::join(quoted, ", "));
}

}  // namespace

std::string KeptRows(const Ranked& ranked) {
  return fmt::format("SELECT {0} FROM ({1}) AS `s` WHERE {2} = 1", SelectList(ranked.columns),
                     ranked.sql, SparkIdent(kRankColumn));
}

Result<std::string> DedupQuery(const AppendOperation& op, const std::string& view,
                               const std::vector<Column>& columns) {
  DL_ASSIGN_OR_RETURN(Ranked ranked, RankedQuery(op, view, columns));
  std::string query = KeptRows(ranked);
  if (!op.dedup->drop_keys_in_table || !op.table_columns) return query;
  for (const auto& k : ranked.keys) {
    if (!HasColumn(*op.table_columns, k)) return query;  // the table cannot hold it yet
  }
  std::vector<std::string> match;
  for (const auto& k : ranked.keys) {
    match.push_back(fmt::format("`t`.{0} <=> `s`.{0}", SparkIdent(k)));
  }
  return fmt::format("{} AND NOT EXISTS (SELECT 1 FROM delta.{} AS `t` WHERE {})", query,
                     SparkIdent(op.table_root), fmt::join(match, " AND "));
}

std::string WithoutHiddenColumns(const std::string& query, const std::vector<Column>& columns) {
  std::vector<std::string> kept;
  for (const auto& c : columns) {
    if (c.name != kFileColumn && c.name != kFileOrderColumn && c.name != kRowOrderColumn) {
      kept.push_back(c.name);
    }
  }
  return fmt::format("SELECT {} FROM ({}) AS `s`", SelectList(kept), query);
}

std::string PathOfSparkUri(std::string_view uri) {
  std::string out;
  for (size_t i = 0; i < uri.size(); ++i) {
    if (uri[i] == '%' && i + 2 < uri.size() && std::isxdigit(uri[i + 1]) &&
        std::isxdigit(uri[i + 2])) {
      out += static_cast<char>(std::stoi(std::string(uri.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += uri[i];
    }
  }
  if (out.rfind("file:", 0) != 0) return out;
  out.erase(0, 5);
  if (out.rfind("///", 0) == 0) out.erase(0, 2);  // file:///x (an empty authority)
  return out;
}

Result<std::unique_ptr<RemoteLoadEngine>> SparkLoadEngine::Connect(const SparkRemote& remote) {
  DL_ASSIGN_OR_RETURN(auto session, SparkSession::Connect(remote));
  return std::unique_ptr<RemoteLoadEngine>(new SparkLoadEngine(std::move(session)));
}

namespace {

// Delta cuts a string column's min and max in a file's stats to this many characters (32 by
// default): raised for a plain append's write to the longest source path, so a data file
// whose source_file_column min and max are equal holds that one source file and its
// numRecords are its rows (AppendOutcome::count_from_commit), with no scan to count them.
// Best effort: a server that refuses the conf gives cut bounds, and the caller counts.
constexpr const char* kStatsPrefixLength = "spark.databricks.io.skipping.stringPrefixLength";
constexpr size_t kMaxStatsPrefixLength = 256;  // longer bounds would bloat every string's stats

// A plain append (no dedup, replace_where or explicit columns to parse first) counts its
// rows from its commit rather than with a scan before the write.
bool CountsFromCommit(const AppendOperation& op) {
  const auto& parts = op.partition_columns;
  return !op.dedup && !op.replace_where && op.columns.empty() &&
         std::find(parts.begin(), parts.end(), op.source_file_column) == parts.end();
}

// Spark packs files into a task up to a size it computes, each file counted this much more
// than its bytes: set above any split size, each task reads one file (or one split of a big
// one), so each data file holds one source file. Done only for a batch of at most
// kOwnTaskFiles files of at least kOwnTaskBytes (Spark's default for this setting): smaller
// files, or many, keep being packed into fewer, larger data files, and their rows are counted
// in those data files after the write (one job, which a short batch would feel most).
constexpr const char* kOpenCost = "spark.sql.files.openCostInBytes";
constexpr int64_t kOwnTaskBytes = int64_t{4} << 20;
constexpr size_t kOwnTaskFiles = 64;

// A session conf set for the write, and what the session had before (put back after it: a
// value the cluster set stays the session's for the operations that follow).
struct RaisedConf {
  const char* key;
  std::optional<std::string> before;
};

// Sets `key` to `value` unless the session's value (`fallback` when unset) is already at least
// that; a server that refuses is left as it is.
void Raise(SparkSession& session, const char* key, int64_t value, int64_t fallback,
           std::vector<RaisedConf>& raised) {
  auto before = session.GetConf(key);
  if (!before.ok()) return;
  int64_t now = fallback;
  if (*before) {
    try {
      now = std::stoll(**before);  // the leading number: "4MB" is 4, raised anyway
    } catch (const std::exception&) {
      now = 0;
    }
  }
  if (now >= value || !session.SetConf(key, std::to_string(value)).ok()) return;
  raised.push_back({key, *before});
}

Status WriteCountedByCommit(SparkSession& session, const AppendOperation& op, pb::Relation input) {
  std::vector<RaisedConf> raised;
  if (!op.source_file_column.empty()) {
    size_t longest = 0;
    for (const auto& p : op.paths) longest = std::max(longest, p.size());
    // Longer paths keep cut bounds: their data files are counted after the commit.
    const auto prefix = static_cast<int64_t>(std::min(longest, kMaxStatsPrefixLength));
    if (prefix > 32) Raise(session, kStatsPrefixLength, prefix, 32, raised);
    const bool large =
        !op.sizes.empty() && op.sizes.size() <= kOwnTaskFiles &&
        std::all_of(op.sizes.begin(), op.sizes.end(), [](int64_t s) { return s >= kOwnTaskBytes; });
    if (large) Raise(session, kOpenCost, int64_t{1} << 40, kOwnTaskBytes, raised);
  }
  Status st = WriteBatch(session, op, std::move(input));
  for (const auto& r : raised) {
    Status back = r.before ? session.SetConf(r.key, *r.before) : session.UnsetConf(r.key);
    if (!back.ok()) {
      log::Warn("a Spark session setting the write raised could not be put back",
                {{"key", r.key}, {"error", back.message()}});
    }
  }
  return st;
}

// Everything after the source view exists; the caller drops the views. Scans: the rows per
// file (which also gives Spark's spelling of each path; with dedup, the rows it keeps per
// file instead, unless explicit columns need their values parsed before anything is
// written), none for a plain append (CountsFromCommit), and the write. `configured`: the
// config's replace_where (op's is Spark SQL).
Result<AppendOutcome> AppendViews(SparkSession& session, const AppendOperation& op,
                                  ReadFiles& files, const std::optional<std::string>& configured) {
  if (CountsFromCommit(op)) {
    DL_RETURN_IF_ERROR(ReadSourceColumns(session, op, files));
    AppendOutcome out;
    out.count_from_commit = true;
    DL_RETURN_IF_ERROR(WriteCountedByCommit(session, op, WithAuditColumns(op, files, false)));
    return out;
  }
  if (!op.dedup || !op.columns.empty()) DL_RETURN_IF_ERROR(CountRowsPerFile(session, op, files));
  DL_RETURN_IF_ERROR(ReadSourceColumns(session, op, files));
  pb::Relation input;
  if (op.dedup || op.replace_where) {
    // The batch as a view (with its rows' delivery order for dedup): checked against
    // replace_where, or deduplicated in SQL, where a scan counts what survives per file.
    DL_RETURN_IF_ERROR(CreateView(session, kBatchView, WithAuditColumns(op, files, true)));
  }
  std::vector<Column> batch;  // the batch view's columns (both queries below keep them)
  if (op.dedup || op.replace_where) {
    DL_ASSIGN_OR_RETURN(batch, ColumnsOf(session, "SELECT * FROM " + SparkIdent(kBatchView)));
  }
  if (op.dedup) {
    DL_ASSIGN_OR_RETURN(std::string query, DedupQuery(op, kBatchView, batch));
    DL_ASSIGN_OR_RETURN(ReadFiles kept, CountRowsByFile(session, query));
    files.rows_per_file = std::move(kept.rows_per_file);
    files.rows = kept.rows;
    input = SqlRelation(WithoutHiddenColumns(query, batch));
  } else if (op.replace_where) {
    DL_RETURN_IF_ERROR(CheckReplaceWhere(session, op, kBatchView, *configured));
    input = SqlRelation(WithoutHiddenColumns("SELECT * FROM " + SparkIdent(kBatchView), batch));
  } else {
    input = WithAuditColumns(op, files, false);
  }
  AppendOutcome out;
  out.rows = files.rows;
  if (!op.source_file_column.empty()) out.rows_per_file = std::move(files.rows_per_file);
  DL_RETURN_IF_ERROR(WriteBatch(session, op, std::move(input)));
  return out;
}

}  // namespace

Result<AppendOutcome> SparkLoadEngine::Append(const AppendOperation& given) {
  AppendOperation op = given;  // replace_where in Spark SQL
  DL_RETURN_IF_ERROR(InSparkDialect(op.replace_where, "replace_where", op));
  DL_RETURN_IF_ERROR(PrepareSession(*session_, op));
  ReadFiles files;
  Status st = OpenSource(*session_, op, op.dedup || op.replace_where, files);
  Result<AppendOutcome> out =
      st.ok() ? AppendViews(*session_, op, files, given.replace_where) : Result<AppendOutcome>(st);
  if (op.dedup || op.replace_where) {
    (void)session_->Sql("DROP VIEW IF EXISTS " + SparkIdent(kBatchView));
  }
  CloseSource(*session_, op);
  if (!out.ok()) return ClassifyLoadError(*session_, out.status(), op);
  return out;
}

Result<std::map<std::string, int64_t>> SparkLoadEngine::CountRowsInFiles(
    const std::vector<std::string>& files, const std::string& column) {
  return CountRowsInParquet(*session_, files, column);
}

}  // namespace dl::engine::spark
