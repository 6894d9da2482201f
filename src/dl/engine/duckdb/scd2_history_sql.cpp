// The DuckDB SQL around SCD2's steps (see scd2_sql.hpp): the open end, the batch's events,
// retire events, stored events, late keys, all events, the files a commit rewrites and the
// change store's rows.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dl/engine/duckdb/scd2_sql.hpp"

namespace dl::engine::duck::scd2 {
namespace {

std::string Join(const std::vector<std::string>& quoted, const char* sep = ", ") {
  return fmt::format("{}", fmt::join(quoted, sep));
}

std::vector<std::string> QuotedAs(const std::vector<std::string>& cols, const std::string& alias) {
  std::vector<std::string> out;
  for (const auto& c : cols) out.push_back((alias.empty() ? "" : alias + ".") + QuoteIdent(c));
  return out;
}

}  // namespace

std::string OpenEndSql(const std::string& value, const std::string& type) {
  return fmt::format("CAST({} AS {})", QuoteLiteral(value), type);
}

std::string OpenEndCheckSql(const std::string& value, const std::string& type) {
  return "SELECT TRY_" + OpenEndSql(value, type);
}

std::string NullColumnSql(const std::string& column) {
  return "CAST(NULL AS VARCHAR) AS " + QuoteIdent(column);
}

std::string BatchEventsSql(const std::string& sequence_column, const std::string& load_time,
                           int64_t batch, const std::string& rows) {
  const std::string seq =
      !sequence_column.empty()
          ? QuoteIdent(sequence_column)
          : fmt::format("CAST({} AS TIMESTAMPTZ)", QuoteLiteral(load_time));
  return fmt::format(
      "SELECT *, {0} AS {1}, {0} AS {2}, false AS {3}, "
      "CAST({4} AS BIGINT) AS {5}, false AS {6} FROM ({7})",
      seq, QuoteIdent(kSeq), QuoteIdent(kEff), QuoteIdent(kPseudo), batch, QuoteIdent(kBatch),
      QuoteIdent(kLate), rows);
}

std::string InsertRetireEventsSql(const Columns& c, const std::string& events,
                                  const std::string& target, const std::string& sequence_column,
                                  int64_t batch, const std::string& file_order) {
  std::string seq_col =
      sequence_column.empty() ? "" : fmt::format(", m.s AS {}", QuoteIdent(sequence_column));
  return fmt::format(
      "INSERT INTO {0} BY NAME SELECT {1}, m.s AS {2}, m.s AS {3}{4}, true AS {5}, false AS {6}, "
      "CAST({7} AS BIGINT) AS {8}, false AS {9}, {10} AS {11}, 0 AS {12} "
      "FROM (SELECT DISTINCT {13} FROM {14} WHERE {15} IS TRUE) c ANTI JOIN {0} e ON {16} "
      "CROSS JOIN (SELECT max({2}) AS s FROM {0}) m WHERE m.s IS NOT NULL",
      events, Join(QuotedAs(c.keys, "c")), QuoteIdent(kSeq), QuoteIdent(kEff), seq_col,
      QuoteIdent(kDelete), QuoteIdent(kPseudo), batch, QuoteIdent(kBatch), QuoteIdent(kLate),
      file_order, QuoteIdent(kFileOrderColumn), QuoteIdent(kRowOrderColumn),
      Join(QuotedAs(c.keys, "")), target, QuoteIdent(c.current), KeyMatch(c.keys, "e", "c"));
}

std::string SeedStoreSql(const Columns& c, const std::string& target,
                         const std::string& sequence_column,
                         const std::vector<std::string>& columns) {
  const std::string seq = QuoteIdent(sequence_column), eff = QuoteIdent(c.effective);
  const std::string end = QuoteIdent(c.end), keys = Join(QuotedAs(c.keys, "t"));
  return fmt::format(
      "SELECT {0}, t.{1} AS {2}, false AS {3}, CAST(-1 AS BIGINT) AS {4}, CAST(0 AS BIGINT) AS "
      "{5}, CAST(row_number() OVER (ORDER BY {6}, t.{1}, t.{7} NULLS LAST) AS BIGINT) AS {8} "
      "FROM {9} t UNION ALL BY NAME "
      "SELECT {6}, t.{7} AS {2}, true AS {3}, CAST(-1 AS BIGINT) AS {4}, CAST(-1 AS BIGINT) AS "
      "{5}, CAST(0 AS BIGINT) AS {8} FROM {9} t ANTI JOIN {9} n ON {11} AND n.{1} = t.{7} "
      "WHERE t.{10} IS NOT TRUE AND t.{7} IS NOT NULL",
      Join(QuotedAs(columns, "t")), eff, seq, QuoteIdent(kStoreDelete),
      QuoteIdent(kStoreBatch), QuoteIdent(kStoreFile), keys, end, QuoteIdent(kStoreRow), target,
      QuoteIdent(c.current), KeyMatch(c.keys, "n", "t"));
}

std::string BatchKeysSql(const Columns& c, const std::string& events) {
  const std::string keys = Join(QuotedAs(c.keys, ""));
  return fmt::format("SELECT {}, min({}) AS __dl_min FROM {} GROUP BY {}", keys,
                     QuoteIdent(kSeq), events, keys);
}

std::string NoLateKeysSql(const Columns& c, const std::string& batch_keys) {
  return fmt::format("SELECT {} FROM {} WHERE false", Join(QuotedAs(c.keys, "")), batch_keys);
}

std::string LateKeysSql(const Columns& c, const std::string& batch_keys,
                        const std::string& sequence_column, const std::string& store) {
  return fmt::format(
      "SELECT {0} FROM {1} b JOIN (SELECT {2}, max(s.{3}) AS "
      "__dl_max FROM {4} s SEMI JOIN {1} b ON {5} GROUP BY {2}) s ON {6} "
      "WHERE b.__dl_min < s.__dl_max",
      Join(QuotedAs(c.keys, "b")), batch_keys, Join(QuotedAs(c.keys, "s")),
      QuoteIdent(sequence_column), store, KeyMatch(c.keys, "b", "s"), KeyMatch(c.keys, "b", "s"));
}

std::string MarkLateSql(const Columns& c, const std::string& events, const std::string& late) {
  return fmt::format("UPDATE {0} SET {1} = true FROM {2} l WHERE {3}", events, QuoteIdent(kLate),
                     late, KeyMatch(c.keys, "l", events));
}

std::string StoredEventsSql(const Columns& c, const std::string& store,
                            const std::vector<std::string>& columns,
                            const std::string& sequence_column, const std::string& late) {
  const std::string seq = QuoteIdent(sequence_column);
  return fmt::format(
      "SELECT {0}, {1} AS {2}, {1} AS {3}, {4} AS {5}, false AS {6}, {7} AS {8}, true AS {9}, "
      "{10} AS {11}, {12} AS {13} FROM {14} s SEMI JOIN {15} l ON {16}",
      Join(QuotedAs(columns, "s")), "s." + seq, QuoteIdent(kSeq), QuoteIdent(kEff),
      QuoteIdent(kStoreDelete), QuoteIdent(kDelete), QuoteIdent(kPseudo),
      QuoteIdent(kStoreBatch), QuoteIdent(kBatch), QuoteIdent(kLate), QuoteIdent(kStoreFile),
      QuoteIdent(kFileOrderColumn), QuoteIdent(kStoreRow), QuoteIdent(kRowOrderColumn), store,
      late, KeyMatch(c.keys, "l", "s"));
}

std::string PseudoEventsSql(const Columns& c, const std::string& key_rows,
                            const std::vector<std::string>& columns, const std::string& seq_type,
                            const std::string& batch_keys, const std::string& late) {
  return fmt::format(
      "SELECT {0}, CAST(NULL AS {1}) AS {2}, {3} AS {4}, false AS {5}, true AS {6}, "
      "CAST(-1 AS BIGINT) AS {7}, false AS {8}, 0 AS {9}, 0 AS {10} FROM {11} o SEMI JOIN {13} b "
      "ON {14} ANTI JOIN {15} l ON {16} WHERE o.{12} IS TRUE",
      Join(QuotedAs(columns, "o")), seq_type, QuoteIdent(kSeq), QuoteIdent(c.effective),
      QuoteIdent(kEff), QuoteIdent(kDelete), QuoteIdent(kPseudo), QuoteIdent(kBatch),
      QuoteIdent(kLate), QuoteIdent(kFileOrderColumn), QuoteIdent(kRowOrderColumn), key_rows,
      QuoteIdent(c.current), batch_keys, KeyMatch(c.keys, "b", "o"), late,
      KeyMatch(c.keys, "l", "o"));
}

std::string AllEventsSql(const std::string& events, const std::string& stored,
                         const std::string& pseudo) {
  std::vector<std::string> parts = {fmt::format("SELECT * FROM {}", events)};
  if (!stored.empty()) parts.push_back(stored);
  if (!pseudo.empty()) parts.push_back(pseudo);
  return Join(parts, " UNION ALL BY NAME ");
}

std::string TouchedFilesSql(const Columns& c, const std::string& old, const std::string& touched) {
  return fmt::format("SELECT DISTINCT o._dl_file FROM {} o SEMI JOIN {} t ON {}", old, touched,
                     KeyMatch(c.keys, "t", "o"));
}

std::string ChangeStoreRowsSql(const Columns& c, const std::string& events,
                               const std::string& seed) {
  std::vector<std::string> cols = QuotedAs(c.columns, "");
  cols.push_back(fmt::format("{} AS {}", QuoteIdent(kDelete), QuoteIdent(kStoreDelete)));
  cols.push_back(fmt::format("{} AS {}", QuoteIdent(kBatch), QuoteIdent(kStoreBatch)));
  cols.push_back(fmt::format("CAST({} AS BIGINT) AS {}", QuoteIdent(kFileOrderColumn),
                             QuoteIdent(kStoreFile)));
  cols.push_back(fmt::format("CAST({} AS BIGINT) AS {}", QuoteIdent(kRowOrderColumn),
                             QuoteIdent(kStoreRow)));
  std::string rows = fmt::format("SELECT {} FROM {}", Join(cols), events);
  if (!seed.empty()) rows = fmt::format("SELECT * FROM {} UNION ALL BY NAME {}", seed, rows);
  return rows;
}

}  // namespace dl::engine::duck::scd2
