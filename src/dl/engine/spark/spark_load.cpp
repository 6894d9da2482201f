#include "dl/engine/spark/spark_load.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <vector>

#include "spark/connect/base.pb.h"

namespace dl::engine::spark {

namespace pb = ::spark::connect;

namespace {

constexpr const char* kFilePathColumn = "__dl_file_path";

pb::Expression Attr(const std::string& name) {
  pb::Expression e;
  e.mutable_unresolved_attribute()->set_unparsed_identifier(name);
  return e;
}

pb::Expression Str(const std::string& value) {
  pb::Expression e;
  e.mutable_literal()->set_string(value);
  return e;
}

pb::Expression Fn(const std::string& name, std::vector<pb::Expression> args) {
  pb::Expression e;
  auto* f = e.mutable_unresolved_function();
  f->set_function_name(name);
  for (auto& a : args) *f->add_arguments() = std::move(a);
  return e;
}

pb::Expression As(pb::Expression expr, const std::string& name) {
  pb::Expression e;
  *e.mutable_alias()->mutable_expr() = std::move(expr);
  e.mutable_alias()->add_name(name);
  return e;
}

// The hidden metadata column resolves on the file scan itself, never through a view.
pb::Expression FilePath() { return Attr("_metadata.file_path"); }

// Spark's DataFrameReader options for the neutral reader settings; types are inferred.
std::map<std::string, std::string> ReaderOptions(const AppendOperation& op) {
  std::map<std::string, std::string> out;
  if (op.format == "csv") out["inferSchema"] = "true";
  static const std::map<std::string, std::string> kSparkName = {{"header", "header"},
                                                                {"delimiter", "sep"},
                                                                {"quote", "quote"},
                                                                {"escape", "escape"},
                                                                {"null_value", "nullValue"}};
  for (const auto& [key, value] : op.reader_options) {
    if (key == "format") {
      out["multiLine"] = value == "array" ? "true" : "false";
    } else if (key == "encoding") {
      out["encoding"] = value == "latin-1" ? "ISO-8859-1" : value;  // Java's charset names
    } else if (auto it = kSparkName.find(key); it != kSparkName.end()) {
      out[it->second] = value;
    }
  }
  return out;
}

// Spark globs the paths it reads (Hadoop's globStatus): a file's own [ ] { } * ? \ escaped.
std::string GlobEscaped(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (std::string_view("[]{}*?\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

pb::Relation Source(const AppendOperation& op) {
  pb::Relation r;
  auto* ds = r.mutable_read()->mutable_data_source();
  ds->set_format(op.format);
  for (const auto& [k, v] : ReaderOptions(op)) (*ds->mutable_options())[k] = v;
  for (const auto& p : op.paths) ds->add_paths(GlobEscaped(p));
  return r;
}

pb::Relation Project(pb::Relation input, std::vector<pb::Expression> exprs) {
  pb::Relation r;
  auto* p = r.mutable_project();
  *p->mutable_input() = std::move(input);
  for (auto& e : exprs) *p->add_expressions() = std::move(e);
  return r;
}

// SELECT _metadata.file_path, count(1) FROM source GROUP BY 1.
pb::Plan RowsPerFilePlan(const AppendOperation& op) {
  pb::Plan plan;
  auto* agg = plan.mutable_root()->mutable_aggregate();
  *agg->mutable_input() = Project(Source(op), {As(FilePath(), kFilePathColumn)});
  agg->set_group_type(pb::Aggregate::GROUP_TYPE_GROUPBY);
  *agg->add_grouping_expressions() = Attr(kFilePathColumn);
  pb::Expression one;
  one.mutable_literal()->set_integer(1);
  *agg->add_aggregate_expressions() = As(Fn("count", {one}), "rows");
  return plan;
}

// The source with the audit columns; Spark's file URIs mapped back to the planned paths.
pb::Relation WithAuditColumns(const AppendOperation& op,
                              const std::map<std::string, std::string>& path_of_uri) {
  std::vector<pb::Expression> exprs;
  exprs.emplace_back().mutable_unresolved_star();
  if (!op.source_file_column.empty()) {
    std::vector<pb::Expression> pairs;
    for (const auto& [uri, path] : path_of_uri) {
      pairs.push_back(Str(uri));
      pairs.push_back(Str(path));
    }
    // No rows at all: nothing to map (an empty map has no key type to look up with).
    pb::Expression file =
        pairs.empty() ? FilePath() : Fn("element_at", {Fn("map", std::move(pairs)), FilePath()});
    exprs.push_back(As(std::move(file), op.source_file_column));
  }
  if (!op.load_timestamp_column.empty()) {
    pb::Expression ts;
    ts.mutable_literal()->set_timestamp(op.load_time_ms * 1000);  // micros since the epoch
    exprs.push_back(As(std::move(ts), op.load_timestamp_column));
  }
  if (!op.batch_id_column.empty()) exprs.push_back(As(Str(op.batch_id), op.batch_id_column));
  return Project(Source(op), std::move(exprs));
}

pb::Plan WritePlan(const AppendOperation& op, pb::Relation input) {
  pb::Plan plan;
  auto* w = plan.mutable_command()->mutable_write_operation();
  *w->mutable_input() = std::move(input);
  w->set_source("delta");
  w->set_path(op.table_root);
  w->set_mode(pb::WriteOperation::SAVE_MODE_APPEND);
  for (const auto& c : op.partition_columns) w->add_partitioning_columns(c);
  auto& o = *w->mutable_options();
  o["txnAppId"] = op.txn_app_id;
  o["txnVersion"] = std::to_string(op.txn_version);
  o["userMetadata"] = op.user_metadata;
  o["mergeSchema"] = op.merge_schema ? "true" : "false";
  return plan;
}

// Delta's optimistic concurrency: another writer committed first (both took the same txn
// version, or created the table at once). Worth a retry, like our own lost races.
bool IsLostCommitRace(const Status& st) {
  for (const char* cls :
       {"[DELTA_CONCURRENT_", "[DELTA_METADATA_CHANGED", "[DELTA_PROTOCOL_CHANGED"}) {
    if (st.message().find(cls) != std::string::npos) return true;
  }
  return false;
}

// Spark names a file it failed on in its own spelling: the error is the plan's file's.
Status ClassifyError(Status st, const AppendOperation& op) {
  if (IsLostCommitRace(st)) return Status::CommitConflict("{}", st.message());
  ErrorDetail detail = st.detail();
  std::string named;
  for (const auto& p : op.paths) {
    if (st.message().find(p) == std::string::npos) continue;
    detail.files.push_back(p);
    named += (named.empty() ? "" : ", ") + p;
  }
  if (detail.files.empty()) return st;
  detail.cause = ErrorDetail::Cause::kData;
  return Status(st.code(), fmt::format("reading {}: {}", named, st.message())).WithDetail(detail);
}

}  // namespace

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

Result<AppendOutcome> SparkLoadEngine::Append(const AppendOperation& op) {
  AppendOutcome out;
  std::map<std::string, std::string> path_of_uri;
  // The write reads the files again: a second scan, the price of per-file counts.
  auto counted = session_->Execute(RowsPerFilePlan(op));
  if (!counted.ok()) return ClassifyError(counted.status(), op);
  for (const auto& row : counted->rows) {
    if (row.size() != 2 || !row[0] || !row[1]) {
      return Status::Engine("Spark: unexpected row in the per-file row counts");
    }
    const std::string path = PathOfSparkUri(*row[0]);
    auto planned = std::find(op.paths.begin(), op.paths.end(), path);
    if (planned == op.paths.end()) {
      return Status::Internal("Spark read {}, which is not one of the batch's files", *row[0]);
    }
    path_of_uri[*row[0]] = *planned;
    const int64_t rows = std::stoll(*row[1]);
    out.rows_per_file[*planned] += rows;
    out.rows += rows;
  }
  if (op.source_file_column.empty()) out.rows_per_file.clear();
  auto written = session_->Execute(WritePlan(op, WithAuditColumns(op, path_of_uri)));
  if (!written.ok()) return ClassifyError(written.status(), op);
  return out;
}

}  // namespace dl::engine::spark
