#include "dl/engine/duckdb/scd2_sql.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "dl/engine/engine.hpp"

namespace dl::engine::duck::scd2 {
namespace {

std::vector<std::string> Quoted(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& n : names) out.push_back(QuoteIdent(n));
  return out;
}

// The columns as one NULL-safe comparable value; a constant when there are none.
std::string Pack(const std::vector<std::string>& cols) {
  if (cols.empty()) return "0";
  std::vector<std::string> fields;
  for (const auto& c : cols) fields.push_back(fmt::format("{0} := {0}", QuoteIdent(c)));
  return fmt::format("struct_pack({})", fmt::join(fields, ", "));
}

}  // namespace

std::string KeyMatch(const std::vector<std::string>& keys, const std::string& a,
                     const std::string& b) {
  std::vector<std::string> parts;
  for (const auto& k : keys) {
    parts.push_back(fmt::format("{0}.{2} = {1}.{2}", a, b, QuoteIdent(k)));
  }
  return fmt::format("{}", fmt::join(parts, " AND "));
}

std::string StepsSql(const Columns& c, const std::string& events) {
  const std::string keys = fmt::format("{}", fmt::join(Quoted(c.keys), ", "));
  const std::string del = QuoteIdent(kDelete);
  // Windows carry every column through their sort: give them only what the steps need, the
  // value columns packed into two comparable values.
  std::vector<std::string> narrow = Quoted(c.keys);
  narrow.push_back(fmt::format("{} AS {}", c.event_id, QuoteIdent(kId)));
  for (const char* col : {kSeq, kEff, kDelete, kPseudo, kLate, kBatch, kFileOrderColumn,
                          kRowOrderColumn}) {
    narrow.push_back(QuoteIdent(col));
  }
  narrow.push_back(Pack(c.tracked) + " AS __dl_t");
  narrow.push_back(Pack(c.untracked) + " AS __dl_u");
  // A key's current version (pseudo event) comes first, then event order: sequence value,
  // batch, file, row.
  const std::string window = fmt::format(
      "PARTITION BY {} ORDER BY {} DESC, {}, {}, {}, {}", keys, QuoteIdent(kPseudo),
      QuoteIdent(kSeq), QuoteIdent(kBatch), QuoteIdent(kFileOrderColumn),
      QuoteIdent(kRowOrderColumn));
  // lag(del) IS DISTINCT FROM false: no previous event, or a delete.
  std::string flags = fmt::format(
      "SELECT {0}, {1}, {2}, {3}, {4}, {5}, row_number() OVER w AS __dl_rn, "
      "NOT {2} AND (lag({2}) OVER w IS DISTINCT FROM false OR __dl_t IS DISTINCT FROM "
      "lag(__dl_t) OVER w) AS __dl_opener, "
      "NOT {2} AND (lag({2}) OVER w IS DISTINCT FROM false OR __dl_t IS DISTINCT FROM "
      "lag(__dl_t) OVER w OR __dl_u IS DISTINCT FROM lag(__dl_u) OVER w) AS __dl_writer, "
      "{2} AND lag({2}) OVER w = false AS __dl_closes, "
      "NOT {2} AND (lead({2}) OVER w IS DISTINCT FROM false OR __dl_t IS DISTINCT FROM "
      "lead(__dl_t) OVER w) AS __dl_last, "
      "lead({6}) OVER w AS __dl_next "
      "FROM (SELECT {7} FROM {8}) WINDOW w AS ({9})",
      keys, QuoteIdent(kId), del, QuoteIdent(kEff), QuoteIdent(kPseudo), QuoteIdent(kLate),
      QuoteIdent(kSeq), fmt::join(narrow, ", "), events, window);
  return fmt::format(
      "SELECT *, sum(CAST(__dl_opener AS INTEGER)) OVER (PARTITION BY {} ORDER BY __dl_rn ROWS "
      "BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS __dl_vid FROM ({})",
      keys, flags);
}

std::string TouchedKeysSql(const Columns& c, const std::string& steps) {
  const std::string keys = fmt::format("{}", fmt::join(Quoted(c.keys), ", "));
  return fmt::format(
      "SELECT {0}, bool_or({1}) AS {1} FROM {2} GROUP BY {0} HAVING bool_or(NOT {3} AND "
      "(__dl_opener OR __dl_writer OR __dl_closes))",
      keys, QuoteIdent(kLate), steps, QuoteIdent(kPseudo));
}

std::string VersionsSql(const Columns& c, const std::string& steps, const std::string& touched,
                        const std::string& events) {
  std::vector<std::string> skeys, columns;
  for (const auto& k : c.keys) skeys.push_back("s." + QuoteIdent(k));
  for (const auto& v : c.columns) {
    bool key = std::find(c.keys.begin(), c.keys.end(), v) != c.keys.end();
    columns.push_back((key ? "g." : "e.") + QuoteIdent(v));
  }
  // The version's row is its last writer's; it starts at its opener (a pseudo event opens
  // the table's current version: its kEff is that version's effective value).
  std::string grouped = fmt::format(
      "SELECT {0}, arg_max(s.{1}, s.__dl_rn) FILTER (WHERE s.__dl_writer) AS __dl_w, "
      "max(s.{2}) FILTER (WHERE s.__dl_opener) AS __dl_e, "
      "max(s.__dl_next) FILTER (WHERE s.__dl_last) AS __dl_end, "
      "bool_or(s.__dl_last AND s.__dl_next IS NULL) AS __dl_cur "
      "FROM {3} s SEMI JOIN {5} t ON {6} WHERE NOT s.{4} "
      "GROUP BY {0}, s.__dl_vid",
      fmt::join(skeys, ", "), QuoteIdent(kId), QuoteIdent(kEff), steps, QuoteIdent(kDelete),
      touched, KeyMatch(c.keys, "t", "s"));
  return fmt::format(
      "SELECT {0}, g.__dl_e AS {1}, CASE WHEN g.__dl_cur THEN {2} ELSE g.__dl_end END AS {3}, "
      "g.__dl_cur AS {4} FROM ({5}) g JOIN {6} e ON e.{7} = g.__dl_w",
      fmt::join(columns, ", "), QuoteIdent(c.effective), c.open_end, QuoteIdent(c.end),
      QuoteIdent(c.current), grouped, events, c.event_id);
}

std::string OutputSql(const Columns& c, const std::string& rewritten, const std::string& touched,
                      const std::string& versions) {
  if (rewritten.empty()) return fmt::format("SELECT * FROM {}", versions);
  const std::string match = KeyMatch(c.keys, "t", "o");
  return fmt::format(
      "SELECT o.* FROM {0} o ANTI JOIN {1} t ON {2} "
      "UNION ALL BY NAME "
      "SELECT o.* FROM {0} o SEMI JOIN (SELECT * FROM {1} WHERE NOT {4}) t ON {2} "
      "WHERE o.{3} IS NOT TRUE "
      "UNION ALL BY NAME SELECT * FROM {5}",
      rewritten, touched, match, QuoteIdent(c.current), QuoteIdent(kLate), versions);
}

std::string ReplacedSql(const Columns& c, const std::string& old, const std::string& touched) {
  // An inner join (touched has one row per key) with the condition after it: as a SEMI JOIN
  // condition the OR kept DuckDB from hashing on the keys.
  return fmt::format("SELECT o.* FROM {0} o JOIN {1} t ON {2} WHERE t.{3} OR o.{4} IS TRUE", old,
                     touched, KeyMatch(c.keys, "t", "o"), QuoteIdent(kLate),
                     QuoteIdent(c.current));
}

std::string ReplacedRowsSql(const Columns& c, const std::string& old, const std::string& touched) {
  return fmt::format("SELECT \"_dl_file\", \"_dl_row\" FROM ({})", ReplacedSql(c, old, touched));
}

std::string VersionsKeepingSql(const Columns& c, const std::string& versions,
                               const std::string& replaced, const KeptFromReplaced& kept) {
  const std::string id = QuoteIdent(engine::kRowIdColumn);
  const std::string version = QuoteIdent(engine::kRowCommitVersionColumn);
  std::vector<std::string> part = Quoted(c.keys);
  part.push_back(QuoteIdent(c.effective));
  const std::string order =
      fmt::format("{} NULLS LAST, {}", QuoteIdent(c.end), QuoteIdent(c.current));
  std::vector<std::string> match, excluded = {"__dl_vn"}, items;
  for (const auto& k : part) match.push_back(fmt::format("v.{0} IS NOT DISTINCT FROM r.{0}", k));
  match.push_back("v.__dl_vn = r.__dl_vn");
  for (const auto& col : kept.identity) {
    excluded.push_back(QuoteIdent(col));
    items.push_back(fmt::format("coalesce(v.{0}, r.{0}) AS {0}", QuoteIdent(col)));
  }
  if (kept.row_ids) {
    std::vector<std::string> same;
    for (const auto& col : kept.compared) {
      const bool identity =
          std::find(kept.identity.begin(), kept.identity.end(), col) != kept.identity.end();
      const std::string q = QuoteIdent(col);
      const std::string value = identity ? fmt::format("coalesce(v.{0}, r.{0})", q) : "v." + q;
      same.push_back(fmt::format("{} IS NOT DISTINCT FROM r.{}", value, q));
    }
    if (same.empty()) same.push_back("false");
    items.push_back(fmt::format("r.{0} AS {0}", id));
    items.push_back(fmt::format("CASE WHEN {} THEN r.{} END AS {}", fmt::join(same, " AND "),
                                version, version));
  }
  return fmt::format(
      "SELECT v.* EXCLUDE ({0}), {1} "
      "FROM (SELECT *, row_number() OVER (PARTITION BY {2} ORDER BY {3}) AS __dl_vn FROM {4}) v "
      "LEFT JOIN (SELECT *, row_number() OVER (PARTITION BY {2} ORDER BY {3}, \"_dl_file\", "
      "\"_dl_row\") AS __dl_vn FROM ({5})) r ON {6}",
      fmt::join(excluded, ", "), fmt::join(items, ", "), fmt::join(part, ", "), order, versions,
      replaced, fmt::join(match, " AND "));
}

}  // namespace dl::engine::duck::scd2
