#include "dl/strategy/bad_rows.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dl/common/clock.hpp"
#include "dl/engine/duckdb/batch_sql.hpp"

namespace dl::strategy {
namespace {

using engine::QuoteIdent;
using engine::QuoteLiteral;

std::vector<std::string> BatchFiles(const Batch& batch) {
  std::vector<std::string> paths;
  for (const auto& f : batch.files) paths.push_back(f.path);
  return paths;
}

}  // namespace

Result<BadRows> SeparateBadRows(table::TableContext& ctx, const Target& target, const Batch& batch,
                                const std::string& source_sql,
                                const std::vector<RequiredColumn>& required) {
  BadRows out;
  std::vector<std::string> is_null, reasons;
  for (const auto& r : required) {
    is_null.push_back(fmt::format("{} IS NULL", QuoteIdent(r.column)));
    reasons.push_back(
        fmt::format("WHEN {} IS NULL THEN {}", QuoteIdent(r.column),
                    QuoteLiteral(fmt::format("NULL in {} column '{}'", r.key, r.column))));
  }
  if (is_null.empty()) return out;
  const std::string bad = fmt::format("({})", fmt::join(is_null, " OR "));
  out.keep = fmt::format("NOT {}", bad);
  // A Delta source's batch.files are its data files in the same order as the file column.
  const std::string file = engine::duck::FileAtPositionSql(BatchFiles(batch), kFileOrderColumn);
  const std::string reason = fmt::format("CASE {} END", fmt::join(reasons, " "));
  DL_ASSIGN_OR_RETURN(
      auto counts, ctx.engine.Query(fmt::format(
                       "SELECT {0}, {1}, count(*) FROM ({2}) WHERE {3} GROUP BY 1, 2 ORDER BY 1, 2",
                       file, reason, source_sql, bad)));
  if (counts.rows.empty()) return out;

  if (target.config.on_bad_rows == config::OnBadRows::kFail) {
    // The files at fault fail alone; the rest of the batch loads.
    return engine::RefusedRows(counts, target.display_name,
                               "fix the source or set on_bad_rows: quarantine");
  }
  for (const auto& row : counts.rows) out.quarantined += std::stoll(row.at(2).value_or("0"));
  DL_ASSIGN_OR_RETURN(auto current, LoadCompanion(ctx, QuarantineRoot(target.root)));
  const auto& audit = target.config.audit_columns;
  std::string source_file =
      audit.enabled ? "" : fmt::format(", {} AS {}", file, QuoteIdent(audit.source_file));
  std::string rows = ctx.engine.WithoutColumns(
      fmt::format("SELECT *{}, {} AS _quarantine_reason, {} AS _quarantined_at FROM ({}) "
                  "WHERE {}",
                  source_file, reason,
                  engine::duck::TimestampConstant(FormatTimestampMs(batch.load_time_ms)),
                  source_sql, bad),
      {kFileOrderColumn, kRowOrderColumn});
  DL_ASSIGN_OR_RETURN(
      out.quarantine,
      WriteCompanionFiles(ctx, "quarantine", QuarantineRoot(target.root), current.get(), rows));
  return out;
}

}  // namespace dl::strategy
