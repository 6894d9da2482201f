#include "dl/cli/table_session.hpp"

#include "dl/common/clock.hpp"
#include "dl/config/loader_config.hpp"
#include "dl/engine/expression_check.hpp"
#include "dl/storage/paths.hpp"
#include "dl/storage/registry.hpp"

namespace dl::cli {

using nlohmann::ordered_json;

namespace {

std::string StripSlash(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

ordered_json ProtocolJson(const delta::Protocol& p) {
  ordered_json j{{"minReaderVersion", p.min_reader_version},
                 {"minWriterVersion", p.min_writer_version}};
  if (p.reader_features) j["readerFeatures"] = *p.reader_features;
  if (p.writer_features) j["writerFeatures"] = *p.writer_features;
  return j;
}

}  // namespace

Status OpenStorage(TableArgs& a) {
  DL_ASSIGN_OR_RETURN(StorageOptions options,
                      config::StorageOptionsFromArgs(a.storage_options, &a.masked));
  auto resolved = ResolveLocation(a.path);
  if (!resolved.ok()) return Status::Config("PATH {}", resolved.status().message());
  a.path = StripSlash(*resolved);
  a.storage = StorageConfig{options, {}};
  if (IsUri(a.path)) {
    auto backend = MakeFileSystemFor(a.path, a.storage);
    if (!backend.ok()) {
      return Status::Config("PATH {}: {}:// storage cannot be used: {}", a.path, UriScheme(a.path),
                            backend.status().message());
    }
  }
  a.fs = MakeFileSystem(a.storage);
  return Status::OK();
}

Status MaskStatus(const Status& st, const std::set<std::string>& masked) {
  return Status(st.code(), config::RedactText(masked, st.message()));
}

Result<Session> OpenSession(const TableArgs& a, std::vector<std::string> files) {
  Session s;
  s.fs = a.fs.get();
  engine::EngineOptions options;
  options.allowed_directories = std::vector<std::string>{a.path};
  options.allowed_files = std::move(files);
  options.storage = a.storage;
  options.file_system = a.fs;
  DL_ASSIGN_OR_RETURN(s.engine, engine::MakeDuckDbEngine(options));
  if (!a.where.empty()) {
    DL_RETURN_IF_ERROR(
        engine::CheckExpression(*s.engine, a.where, a.where_name, engine::Qualifiers::kAny)
            .status());
  }
  s.ctx = std::make_unique<table::TableContext>(table::TableContext{*s.fs, *s.engine});
  return s;
}

Result<std::shared_ptr<const delta::Snapshot>> SnapshotFor(Session& s, const TableArgs& a) {
  std::optional<int64_t> ts;
  if (!a.timestamp.empty()) {
    ts = ParseTimestampMs(a.timestamp);
    if (!ts)
      return Status::InvalidArgument("--timestamp '{}' is not an ISO-8601 time", a.timestamp);
  }
  return table::LoadSnapshot(*s.ctx, a.path, a.version, ts);
}

Result<std::string> PrepareScan(Session& s, const TableArgs& a,
                                const std::vector<std::string>& columns) {
  DL_ASSIGN_OR_RETURN(auto snap, SnapshotFor(s, a));
  DL_RETURN_IF_ERROR(s.engine->RegisterSnapshot("__dl_scan", *snap));
  std::string select = columns.empty() ? "*" : "";
  for (const auto& c : columns) {
    if (!snap->schema().Find(c)) return Status::InvalidArgument("no column '{}' in {}", c, a.path);
    select += (select.empty() ? "" : ", ") + engine::QuoteIdent(c);
  }
  std::string sql = "SELECT " + select + " FROM __dl_scan";
  if (!a.where.empty()) sql += " WHERE (" + a.where + ")";
  if (!a.order_by.empty()) {
    std::string order;
    for (const auto& c : SplitList(a.order_by)) {
      order += (order.empty() ? "" : ", ") + engine::QuoteIdent(c);
    }
    sql += " ORDER BY " + order;
  }
  if (a.limit) sql += " LIMIT " + std::to_string(*a.limit);
  return sql;
}

Result<std::string> PrepareChanges(Session& s, const TableArgs& a) {
  return table::ChangeFeed(*s.ctx, a.path, a.from_version.value_or(0), a.to_version);
}

ordered_json DescribeJson(const TableArgs& a, const delta::Snapshot& snap) {
  const auto& md = snap.metadata();
  return ordered_json{
      {"path", a.path},
      {"version", snap.version()},
      {"id", md.id},
      {"name", md.name ? ordered_json(*md.name) : ordered_json()},
      {"schema", ordered_json::parse(md.schema_string)},
      {"partition_columns", md.partition_columns},
      {"protocol", ProtocolJson(snap.protocol())},
      {"properties", md.configuration},
      {"num_files", snap.files().size()},
      {"size_bytes", snap.TotalSize()},
      {"created_time", md.created_time ? ordered_json(*md.created_time) : ordered_json()},
      {"last_commit", FormatTimestampMs(snap.timestamp_ms())}};
}

Result<ordered_json> HistoryJson(const TableArgs& a) {
  DL_ASSIGN_OR_RETURN(auto s, OpenSession(a));
  DL_ASSIGN_OR_RETURN(auto entries, table::History(*s.ctx, a.path, a.limit));
  ordered_json out = ordered_json::array();
  for (const auto& e : entries) {
    const auto& ci = e.commit_info;
    auto get = [&](const char* k) { return ci.contains(k) ? ci[k] : ordered_json(); };
    out.push_back({{"version", e.version},
                   {"timestamp", FormatTimestampMs(e.timestamp_ms)},
                   {"operation", get("operation")},
                   {"operationParameters", get("operationParameters")},
                   {"operationMetrics", get("operationMetrics")},
                   {"engineInfo", get("engineInfo")}});
  }
  return out;
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    size_t comma = s.find(',', start);
    std::string item =
        s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace dl::cli
