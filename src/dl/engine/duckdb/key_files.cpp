#include "dl/engine/duckdb/key_files.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

#include "dl/delta/column_mapping.hpp"
#include "dl/delta/stats.hpp"
#include "dl/engine/sql_util.hpp"

namespace dl::engine::duck {
namespace {

// Types whose stats bound every value exactly (timestamps are cut to milliseconds and floats
// may hold NaN, so they are not used to prune).
bool PrunableType(const delta::DataType& t) {
  if (t.kind == delta::DataType::Kind::kDecimal) return true;
  static const std::set<std::string> kTypes = {"long", "integer", "short",
                                               "byte", "string",  "date"};
  return t.kind == delta::DataType::Kind::kPrimitive && kTypes.count(t.name) > 0;
}

std::optional<std::string> StatText(const nlohmann::json& values, const std::string& column) {
  auto it = values.find(column);
  if (it == values.end() || it->is_null() || it->is_object()) return std::nullopt;
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

Result<std::vector<delta::AddFile>> PruneFilesByKeyStats(Engine& engine,
                                                         const delta::Snapshot& snapshot,
                                                         const std::string& key,
                                                         const std::string& keys_sql) {
  const auto& files = snapshot.files();
  const auto* field = snapshot.schema().Find(key);
  bool partition_key = false;
  for (const auto& p : snapshot.partition_columns()) partition_key |= p == key;
  if (!field || partition_key || !PrunableType(*field->type) || files.empty()) return files;

  std::vector<delta::AddFile> out;
  std::vector<std::string> ranges;
  // Stats name columns as the files do: by physical name under column mapping.
  const std::string stat_key = delta::UsesColumnMapping(snapshot.metadata().configuration)
                                   ? delta::PhysicalName(*field)
                                   : key;
  for (size_t i = 0; i < files.size(); ++i) {
    auto stats = delta::ParseStats(files[i].stats);
    auto lo = StatText(stats.min_values, stat_key), hi = StatText(stats.max_values, stat_key);
    if (!lo || !hi) {
      out.push_back(files[i]);
      continue;
    }
    ranges.push_back(fmt::format("({}, {}, {})", i, QuoteLiteral(*lo), QuoteLiteral(*hi)));
  }
  if (ranges.empty()) return out;
  const std::string type =
      field->type->kind == delta::DataType::Kind::kDecimal
          ? fmt::format("DECIMAL({},{})", field->type->precision, field->type->scale)
      : field->type->name == "string" ? "VARCHAR"
      : field->type->name == "date"   ? "DATE"
                                      : "BIGINT";
  DL_ASSIGN_OR_RETURN(
      auto hits,
      engine.Query(fmt::format(
          "SELECT f.i FROM (SELECT i, CAST(lo AS {0}) AS lo, CAST(hi AS {0}) AS hi FROM "
          "(VALUES {1}) v(i, lo, hi)) f WHERE EXISTS (SELECT 1 FROM (SELECT DISTINCT {2} AS k "
          "FROM ({3})) k WHERE k.k BETWEEN f.lo AND f.hi)",
          type, fmt::join(ranges, ", "), QuoteIdent(key), keys_sql)));
  for (const auto& row : hits.rows) out.push_back(files.at(std::stoul(row.at(0).value())));
  return out;
}

Result<KeyFiles> FindFilesWithKeys(Engine& engine, const delta::Snapshot& snapshot,
                                   const std::vector<std::string>& keys,
                                   const std::string& keys_sql, const std::string& row_filter) {
  KeyFiles out;
  DL_ASSIGN_OR_RETURN(auto candidates,
                      PruneFilesByKeyStats(engine, snapshot, keys.at(0), keys_sql));
  out.candidates = static_cast<int64_t>(candidates.size());
  if (candidates.empty()) return out;

  const std::string scan = "__dl_key_scan";
  DL_RETURN_IF_ERROR(engine.RegisterSnapshotWithFileColumn(scan, snapshot, &candidates));
  std::vector<std::string> match;
  for (const auto& k : keys) match.push_back(fmt::format("k.{0} = s.{0}", QuoteIdent(k)));
  std::string rows = row_filter.empty() ? QuoteIdent(scan)
                                         : fmt::format("(SELECT * FROM {} WHERE ({}))",
                                                       QuoteIdent(scan), row_filter);
  // An explicit semi join: DuckDB runs it about twice as fast as the EXISTS form.
  auto hit = engine.Query(fmt::format("SELECT DISTINCT s._dl_file FROM {} s SEMI JOIN ({}) k ON {}",
                                      rows, keys_sql, fmt::join(match, " AND ")));
  (void)engine.Execute(fmt::format("DROP VIEW IF EXISTS {}", QuoteIdent(scan)));
  if (!hit.ok()) return hit.status();
  std::set<std::string> touched;
  for (const auto& row : hit->rows) touched.insert(row.at(0).value_or(""));
  for (const auto& f : candidates) {
    if (touched.count(f.path)) out.files.push_back(f);
  }
  return out;
}

}  // namespace dl::engine::duck
