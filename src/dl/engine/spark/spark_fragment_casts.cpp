// Casts (CAST, TRY_CAST, ::, typed strings) and the implicit VARCHAR cast of || and concat,
// as Spark SQL meaning what they mean on DuckDB: compared on both engines by
// server_tests/spark_fragment_functions_test.cpp. Where the meaning depends on the operand's
// type, which the fragment's text does not tell, the Spark SQL asks typeof() (folded away by
// Spark) and fails the query, naming why, where no exact form exists.
#include <fmt/format.h>

#include <map>

#include "dl/engine/spark/spark_fragment_parts.hpp"
#include "dl/engine/spark/spark_plan.hpp"

namespace dl::engine::spark::fragment {
namespace {

enum class Target { kPlain, kIntegral, kDecimal, kVarchar };

}  // namespace

std::string RaiseError(std::string_view message) {
  return fmt::format("raise_error({})", SparkLiteral(message));
}

std::string SparkVarchar(const std::string& x) {
  return fmt::format(
      "CASE WHEN typeof({0}) = 'timestamp' THEN concat(CAST({0} AS STRING), '+00') WHEN "
      "regexp_like(typeof({0}), '^(double|float|binary|interval|array|struct|map)') THEN {1} "
      "ELSE CAST({0} AS STRING) END",
      x,
      RaiseError("a DOUBLE, FLOAT, BLOB, INTERVAL, list or struct is spelled otherwise as a "
                 "string on Spark (1e+20 on DuckDB, 1.0E20 on Spark): cast a DECIMAL or BIGINT"));
}

// CASE WHEN <when> THEN <a run time error> ELSE <value> END: `when` and `value` share the
// operands, so a cheap condition on a literal is folded away by Spark.
std::string FailWhen(std::string_view when, std::string_view why, std::string_view value) {
  return fmt::format("CASE WHEN {} THEN {} ELSE {} END", when, RaiseError(why), value);
}

std::string IsFloating(std::string_view x) {
  return fmt::format("typeof({}) IN ('double', 'float')", x);
}

Result<std::string> SparkCast(const std::string& x, const TypeName& type, bool try_cast,
                              bool operand_is_string, std::string_view s, size_t at) {
  static const std::map<std::string, std::pair<std::string, Target>, std::less<>> kTypes = {
      {"boolean", {"BOOLEAN", Target::kPlain}},
      {"bool", {"BOOLEAN", Target::kPlain}},
      {"logical", {"BOOLEAN", Target::kPlain}},
      {"tinyint", {"TINYINT", Target::kIntegral}},
      {"int1", {"TINYINT", Target::kIntegral}},
      {"smallint", {"SMALLINT", Target::kIntegral}},
      {"int2", {"SMALLINT", Target::kIntegral}},
      {"short", {"SMALLINT", Target::kIntegral}},
      {"integer", {"INT", Target::kIntegral}},
      {"int", {"INT", Target::kIntegral}},
      {"int4", {"INT", Target::kIntegral}},
      {"signed", {"INT", Target::kIntegral}},
      {"bigint", {"BIGINT", Target::kIntegral}},
      {"int8", {"BIGINT", Target::kIntegral}},
      {"long", {"BIGINT", Target::kIntegral}},
      {"float", {"FLOAT", Target::kPlain}},
      {"float4", {"FLOAT", Target::kPlain}},
      {"real", {"FLOAT", Target::kPlain}},
      {"double", {"DOUBLE", Target::kPlain}},
      {"float8", {"DOUBLE", Target::kPlain}},
      {"double precision", {"DOUBLE", Target::kPlain}},
      {"decimal", {"DECIMAL", Target::kDecimal}},
      {"numeric", {"DECIMAL", Target::kDecimal}},
      {"varchar", {"STRING", Target::kVarchar}},
      {"char", {"STRING", Target::kVarchar}},
      {"bpchar", {"STRING", Target::kVarchar}},
      {"text", {"STRING", Target::kVarchar}},
      {"string", {"STRING", Target::kVarchar}},
      {"date", {"DATE", Target::kPlain}},
      {"timestamp", {"TIMESTAMP_NTZ", Target::kPlain}},
      {"datetime", {"TIMESTAMP_NTZ", Target::kPlain}},
      {"timestamp_us", {"TIMESTAMP_NTZ", Target::kPlain}},
      {"timestamptz", {"TIMESTAMP_LTZ", Target::kPlain}},
      {"timestamp with time zone", {"TIMESTAMP_LTZ", Target::kPlain}}};
  static const std::map<std::string, std::string, std::less<>> kRefused = {
      {"hugeint", "Spark has no 128-bit integer"},
      {"int128", "Spark has no 128-bit integer"},
      {"uhugeint", "Spark has no unsigned integers"},
      {"uint128", "Spark has no unsigned integers"},
      {"utinyint", "Spark has no unsigned integers"},
      {"uint8", "Spark has no unsigned integers"},
      {"usmallint", "Spark has no unsigned integers"},
      {"uint16", "Spark has no unsigned integers"},
      {"uinteger", "Spark has no unsigned integers"},
      {"uint32", "Spark has no unsigned integers"},
      {"ubigint", "Spark has no unsigned integers"},
      {"uint64", "Spark has no unsigned integers"},
      {"time", "Spark has no TIME type here"},
      {"timetz", "Spark has no TIME type here"},
      {"time with time zone", "Spark has no TIME type here"},
      {"timestamp_s", "Spark keeps microseconds"},
      {"timestamp_ms", "Spark keeps microseconds"},
      {"timestamp_ns", "Spark keeps microseconds"},
      {"interval", "write INTERVAL '1 day' or INTERVAL 1 DAY"},
      {"blob", "DuckDB reads \\x escapes in the string, Spark its UTF-8 bytes"},
      {"bytea", "DuckDB reads \\x escapes in the string, Spark its UTF-8 bytes"},
      {"binary", "DuckDB reads \\x escapes in the string, Spark its UTF-8 bytes"},
      {"varbinary", "DuckDB reads \\x escapes in the string, Spark its UTF-8 bytes"},
      {"uuid", "Spark has no UUID type"}};
  const std::string upper_words = AsciiUpper(type.words);
  if (auto r = kRefused.find(type.words); r != kRefused.end()) {
    return Refuse(fmt::format("a cast to {} ({})", upper_words, r->second), s, at);
  }
  auto it = kTypes.find(type.words);
  if (it == kTypes.end()) return Refuse(fmt::format("a cast to {}", upper_words), s, at);
  const auto& [spark_type, target] = it->second;
  const char* cast = try_cast ? "TRY_CAST" : "CAST";
  if (target == Target::kDecimal) {
    // DuckDB's DECIMAL is DECIMAL(18,3), Spark's DECIMAL(10,0).
    long long precision = type.params.empty() ? 18 : type.params[0];
    long long scale = type.params.empty() ? 3 : (type.params.size() > 1 ? type.params[1] : 0);
    if (type.params.size() > 2 || precision < 1 || precision > 38 || scale < 0 ||
        scale > precision) {
      return Refuse(fmt::format("a cast to DECIMAL with parameters Spark does not take"), s, at);
    }
    const std::string call = fmt::format("{}({} AS DECIMAL({}, {}))", cast, x, precision, scale);
    if (operand_is_string || (scale == 0 && try_cast)) return call;
    if (scale == 0) {  // NaN and infinities fail on DuckDB; Spark's DECIMAL takes them as NULL
      return FailWhen(fmt::format("{0} AND (isnan(CAST({1} AS DOUBLE)) OR abs(CAST({1} AS DOUBLE)) "
                                  "= CAST('Infinity' AS DOUBLE))",
                                  IsFloating(x), x),
                      "a NaN or infinite DOUBLE cannot be cast to DECIMAL", call);
    }
    // A DOUBLE at a tie (1.005 to two digits) rounds down on DuckDB, up on Spark.
    return FailWhen(IsFloating(x),
                    "a DOUBLE cast to a DECIMAL with digits rounds otherwise on Spark: cast a "
                    "DECIMAL or VARCHAR",
                    call);
  }
  if (!type.params.empty() && target != Target::kVarchar) {
    return Refuse(fmt::format("a cast to {} with parameters", upper_words), s, at);
  }
  switch (target) {
    case Target::kIntegral:
      // DuckDB rounds to the nearest (halves away from zero; a DOUBLE's halves to even), Spark
      // truncates: round through DECIMAL(38, 0), which rounds halves away from zero.
      if (operand_is_string) {
        return fmt::format("{0}({0}({1} AS DECIMAL(38, 0)) AS {2})", cast, x, spark_type);
      }
      // (A DOUBLE goes straight to the integer: NaN and infinities fail there, as on DuckDB,
      // where Spark's DECIMAL takes them as NULL.)
      return fmt::format(
          "CASE WHEN {1} THEN {0}(bround({0}({2} AS DOUBLE)) AS {3}) ELSE {0}({0}({2} AS "
          "DECIMAL(38, 0)) AS {3}) END",
          cast, IsFloating(x), x, spark_type);
    case Target::kVarchar:
      if (operand_is_string) return x;
      return SparkVarchar(x);
    default:
      return fmt::format("{}({} AS {})", cast, x, spark_type);
  }
}

}  // namespace dl::engine::spark::fragment
