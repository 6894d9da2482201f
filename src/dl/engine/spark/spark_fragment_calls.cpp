// Each function of the allowlist (engine/expression_check.cpp) as Spark SQL that means what
// it means on DuckDB, compared on both engines by
// server_tests/spark_fragment_functions_test.cpp, or refused naming what to write instead.
// The Spark session runs with ANSI on and in UTC, as DuckDB's (spark_plan.cpp
// PrepareSession). Where the meaning depends on an argument's value (a negative count) the
// Spark SQL fails the query for the values where it would differ.
#include <fmt/args.h>
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "dl/engine/spark/spark_fragment_parts.hpp"
#include "dl/engine/spark/spark_plan.hpp"

namespace dl::engine::spark::fragment {
namespace {

using Args = std::vector<Arg>;

struct Call {
  const std::string& name;
  const Args& args;
  std::string_view s;
  size_t at;

  Status Refused(std::string_view why) const {
    return Refuse(fmt::format("{}() ({})", name, why), s, at);
  }
  Status Arity(size_t min, size_t max) const {
    if (args.size() >= min && args.size() <= max) return Status::OK();
    return Refused(fmt::format("with {} arguments", args.size()));
  }
};

using Rule = std::function<Result<std::string>(const Call&)>;

std::string Joined(const Args& args, size_t from = 0) {
  std::string out;
  for (size_t k = from; k < args.size(); ++k) out += (k > from ? ", " : "") + args[k].spark;
  return out;
}

// The same function under Spark's name.
Rule Named(std::string spark, size_t min, size_t max) {
  return [spark, min, max](const Call& c) -> Result<std::string> {
    DL_RETURN_IF_ERROR(c.Arity(min, max));
    return fmt::format("{}({})", spark, Joined(c.args));
  };
}

Rule Refusal(std::string why) {
  return [why](const Call& c) -> Result<std::string> { return c.Refused(why); };
}

// `spark` with {0}, {1}, ... the arguments, for exactly `count` of them.
Rule Template(size_t count, std::string spark) {
  return [count, spark](const Call& c) -> Result<std::string> {
    DL_RETURN_IF_ERROR(c.Arity(count, count));
    std::vector<std::string> a;
    for (const Arg& arg : c.args) a.push_back(arg.spark);
    fmt::dynamic_format_arg_store<fmt::format_context> store;
    for (const auto& x : a) store.push_back(x);
    return fmt::vformat(spark, store);
  };
}

// Spark's ceil and floor of a DOUBLE are a BIGINT (the same number; "3" where DuckDB's DOUBLE
// prints "3.0"), clamped beyond 2^63 where DuckDB's stays a DOUBLE: those, NaN and the
// infinities fail.
Rule CeilFloor(std::string name) {
  return [name](const Call& c) -> Result<std::string> {
    DL_RETURN_IF_ERROR(c.Arity(1, 1));
    const std::string& x = c.args[0].spark;
    return FailWhen(
        fmt::format("{} AND NOT abs(CAST({} AS DOUBLE)) < 9.2e18", IsFloating(x), x),
        fmt::format("{} of a DOUBLE beyond 2^63, NaN or infinite is another number on Spark", name),
        fmt::format("{}({})", name, x));
  };
}

// DuckDB's date part names (and the aliases it takes) in one spelling.
std::string Part(std::string_view part) {
  static const std::map<std::string, std::string, std::less<>> kAliases = {
      {"year", "year"},
      {"years", "year"},
      {"y", "year"},
      {"yr", "year"},
      {"yrs", "year"},
      {"quarter", "quarter"},
      {"quarters", "quarter"},
      {"month", "month"},
      {"months", "month"},
      {"mon", "month"},
      {"mons", "month"},
      {"week", "week"},
      {"weeks", "week"},
      {"w", "week"},
      {"weekofyear", "week"},
      {"day", "day"},
      {"days", "day"},
      {"d", "day"},
      {"dayofmonth", "day"},
      {"hour", "hour"},
      {"hours", "hour"},
      {"h", "hour"},
      {"hr", "hour"},
      {"hrs", "hour"},
      {"minute", "minute"},
      {"minutes", "minute"},
      {"min", "minute"},
      {"mins", "minute"},
      {"second", "second"},
      {"seconds", "second"},
      {"s", "second"},
      {"sec", "second"},
      {"secs", "second"},
      {"millisecond", "millisecond"},
      {"milliseconds", "millisecond"},
      {"ms", "millisecond"},
      {"msec", "millisecond"},
      {"msecs", "millisecond"},
      {"microsecond", "microsecond"},
      {"microseconds", "microsecond"},
      {"us", "microsecond"},
      {"usec", "microsecond"},
      {"usecs", "microsecond"},
      {"dow", "dow"},
      {"dayofweek", "dow"},
      {"weekday", "dow"},
      {"isodow", "isodow"},
      {"doy", "doy"},
      {"dayofyear", "doy"},
      {"epoch", "epoch"},
      {"isoyear", "isoyear"}};
  auto it = kAliases.find(AsciiLower(part));
  return it == kAliases.end() ? std::string() : it->second;
}

Result<std::string> PartOf(const Call& c, const std::set<std::string, std::less<>>& allowed) {
  if (!c.args[0].text) return c.Refused("a part that is not a literal string");
  const std::string part = Part(*c.args[0].text);
  if (part.empty() || !allowed.count(part)) {
    return c.Refused(
        fmt::format("the part '{}': Spark has no exact counterpart here", *c.args[0].text));
  }
  return part;
}

Result<std::string> DatePart(const Call& c) {
  DL_RETURN_IF_ERROR(c.Arity(2, 2));
  DL_ASSIGN_OR_RETURN(auto part, PartOf(c, {"year", "quarter", "month", "week", "day", "hour",
                                            "minute", "second", "millisecond", "microsecond", "dow",
                                            "isodow", "doy", "epoch", "isoyear"}));
  const std::string& x = c.args[1].spark;
  // DuckDB's seconds are whole; its milli- and microseconds count the seconds too; its dow
  // counts from 0 (Sunday), Spark's from 1.
  if (part == "second") return fmt::format("CAST(extract(SECOND FROM {}) AS BIGINT)", x);
  if (part == "millisecond")
    return fmt::format("CAST(extract(SECOND FROM {}) * 1000 AS BIGINT)", x);
  if (part == "microsecond") {
    return fmt::format("CAST(extract(SECOND FROM {}) * 1000000 AS BIGINT)", x);
  }
  if (part == "dow") return fmt::format("(extract(DOW FROM {}) - 1)", x);
  if (part == "isodow") return fmt::format("extract(DOW_ISO FROM {})", x);
  if (part == "isoyear") return fmt::format("extract(YEAROFWEEK FROM {})", x);
  if (part == "epoch") return fmt::format("(unix_micros(CAST({} AS TIMESTAMP_LTZ)) / 1e6)", x);
  return fmt::format("extract({} FROM {})", AsciiUpper(part), x);
}

const std::set<std::string, std::less<>> kTruncParts = {
    "year", "quarter", "month",  "week",        "day",
    "hour", "minute",  "second", "millisecond", "microsecond"};

Result<std::string> DateTrunc(const Call& c) {
  DL_RETURN_IF_ERROR(c.Arity(2, 2));
  DL_ASSIGN_OR_RETURN(auto part, PartOf(c, kTruncParts));
  return fmt::format("date_trunc('{}', {})", AsciiUpper(part), c.args[1].spark);
}

// DuckDB's date_diff counts the part's boundaries between the two: whole parts between
// their truncations.
Result<std::string> DateDiff(const Call& c) {
  DL_RETURN_IF_ERROR(c.Arity(3, 3));
  DL_ASSIGN_OR_RETURN(auto part, PartOf(c, {"year", "quarter", "month", "day", "hour", "minute",
                                            "second", "millisecond", "microsecond"}));
  const std::string unit = AsciiUpper(part);
  return fmt::format("timestampdiff({0}, date_trunc('{0}', {1}), date_trunc('{0}', {2}))", unit,
                     c.args[1].spark, c.args[2].spark);
}

// DuckDB's date_sub counts whole parts; Spark's timestampdiff too, but for months and years
// it counts a month from the 31st to the 29th where DuckDB does, so only fixed-length parts.
Result<std::string> DateSub(const Call& c) {
  DL_RETURN_IF_ERROR(c.Arity(3, 3));
  DL_ASSIGN_OR_RETURN(auto part,
                      PartOf(c, {"day", "hour", "minute", "second", "millisecond", "microsecond"}));
  return fmt::format("timestampdiff({}, {}, {})", AsciiUpper(part), c.args[1].spark,
                     c.args[2].spark);
}

// DuckDB's substring: a position 0 counts as one before the first character and a negative
// length counts back; Spark's takes 0 as 1 and a negative length as 0.
Result<std::string> Substring(const Call& c) {
  DL_RETURN_IF_ERROR(c.Arity(2, 3));
  const Arg& pos = c.args[1];
  const bool length_ok = c.args.size() == 2 || (c.args[2].integer && *c.args[2].integer >= 0);
  const std::string call = fmt::format("substring({})", Joined(c.args));
  if ((c.args.size() == 2 || (pos.integer && *pos.integer != 0)) && length_ok) return call;
  std::string when = c.args.size() == 3
                         ? fmt::format("({}) = 0 OR ({}) < 0", pos.spark, c.args[2].spark)
                         : "false";
  return FailWhen(when,
                  "substring from position 0 or with a negative length counts otherwise on "
                  "Spark",
                  call);
}

// left and right with a negative count: all but that many on DuckDB, '' on Spark.
Rule LeftRight(std::string name) {
  return [name](const Call& c) -> Result<std::string> {
    DL_RETURN_IF_ERROR(c.Arity(2, 2));
    const std::string call = fmt::format("{}({})", name, Joined(c.args));
    if (c.args[1].integer && *c.args[1].integer >= 0) return call;
    return FailWhen(fmt::format("({}) < 0", c.args[1].spark),
                    fmt::format("{} with a negative count counts otherwise on Spark", name), call);
  };
}

// DuckDB's one-argument trim removes Unicode's space separators, Spark's only ' '
// (SpaceSeparators); the two-argument form takes (string, characters) on DuckDB, (characters,
// string) on Spark.
Rule TrimRule(std::string mode) {
  return [mode](const Call& c) -> Result<std::string> {
    DL_RETURN_IF_ERROR(c.Arity(1, 2));
    const std::string chars = c.args.size() == 2 ? c.args[1].spark : SpaceSeparators();
    return fmt::format("trim({} {} FROM {})", mode, chars, c.args[0].spark);
  };
}

// like_escape(s, p, e) and its kin as LIKE ... ESCAPE, which Spark takes for one literal
// character only.
Rule LikeEscape(bool negated, const char* op) {
  return [negated, op](const Call& c) -> Result<std::string> {
    DL_RETURN_IF_ERROR(c.Arity(3, 3));
    if (!c.args[2].text || c.args[2].text->size() != 1) {
      return c.Refused("an escape that is not one literal character");
    }
    const std::string pattern =
        c.args[1].text ? SparkLiteral(LikePatternWithEscape(*c.args[1].text, *c.args[2].text))
                       : c.args[1].spark;
    return fmt::format("({}({}) {} ({}) ESCAPE {})", negated ? "NOT " : "", c.args[0].spark, op,
                       pattern, c.args[2].spark);
  };
}

// Spark upper-cases with Unicode's full mappings (ß -> SS, ﬀ -> FF, ᾳ -> ΑΙ), DuckDB one
// letter to one (ß -> ẞ): they differ exactly where Spark's result is longer, which fails.
Result<std::string> UpperCase(const Call& c) {
  DL_RETURN_IF_ERROR(c.Arity(1, 1));
  const std::string& x = c.args[0].spark;
  const std::string call = fmt::format("upper({})", x);
  const auto ascii = [](const std::string& t) {
    return std::all_of(t.begin(), t.end(), [](char ch) { return (ch & 0x80) == 0; });
  };
  if (c.args[0].text && ascii(*c.args[0].text)) return call;
  return FailWhen(fmt::format("length({0}) <> length({1})", call, x),
                  "upper of a string with a letter Unicode upper-cases to two or more (ß, "
                  "ligatures) is another string on Spark",
                  call);
}

Result<std::string> SplitPart(const Call& c) {
  DL_RETURN_IF_ERROR(c.Arity(3, 3));
  const std::string call = fmt::format("split_part({})", Joined(c.args));
  const bool delimiter_ok = c.args[1].text && !c.args[1].text->empty();
  const bool index_ok = c.args[2].integer && *c.args[2].integer != 0;
  if (delimiter_ok && index_ok) return call;
  return FailWhen(fmt::format("({}) = '' OR ({}) = 0", c.args[1].spark, c.args[2].spark),
                  "split_part with an empty delimiter or index 0 splits otherwise on Spark", call);
}

// Spark's chr takes the code modulo 256; DuckDB's any code point.
Result<std::string> Chr(const Call& c) {
  DL_RETURN_IF_ERROR(c.Arity(1, 1));
  const std::string call = fmt::format("chr({})", c.args[0].spark);
  if (c.args[0].integer && *c.args[0].integer >= 0 && *c.args[0].integer <= 255) return call;
  return FailWhen(fmt::format("({}) NOT BETWEEN 0 AND 255", c.args[0].spark),
                  "chr of a code outside 0-255 is another character on Spark", call);
}

// round(x, n): Spark rounds a DOUBLE's shortest decimal form, DuckDB its scaled binary value
// (round(1.005, 2) is 1.01 on Spark, 1.0 on DuckDB); DECIMALs round alike.
Result<std::string> Round(const Call& c) {
  DL_RETURN_IF_ERROR(c.Arity(1, 2));
  const std::string call = fmt::format("round({})", Joined(c.args));
  if (c.args.size() == 1 || (c.args[1].integer && *c.args[1].integer == 0)) return call;
  return FailWhen(IsFloating(c.args[0].spark),
                  "round of a DOUBLE to digits rounds otherwise on Spark: write round(x * 100) / "
                  "100",
                  call);
}

// concat skips NULLs on DuckDB (Spark's concat_ws does, its concat does not); each value
// becomes the string DuckDB makes of it.
Rule Concat(bool with_separator) {
  return [with_separator](const Call& c) -> Result<std::string> {
    DL_RETURN_IF_ERROR(c.Arity(with_separator ? 2 : 1, 1000));
    std::string out = with_separator ? "concat_ws(" + c.args[0].spark : "concat_ws(''";
    for (size_t k = with_separator ? 1 : 0; k < c.args.size(); ++k) {
      const Arg& a = c.args[k];
      out += ", " + (a.text || a.integer ? a.spark : SparkVarchar(a.spark));
    }
    return out + ")";
  };
}

Result<std::string> MakeTimestamp(const Call& c) {
  DL_RETURN_IF_ERROR(c.Arity(1, 6));
  if (c.args.size() == 1) {
    return fmt::format("CAST(timestamp_micros({}) AS TIMESTAMP_NTZ)", c.args[0].spark);
  }
  DL_RETURN_IF_ERROR(c.Arity(6, 6));
  return fmt::format("make_timestamp_ntz({})", Joined(c.args));
}

const std::map<std::string, Rule, std::less<>>& Rules() {
  static const auto* rules = new std::map<std::string, Rule, std::less<>>{
      // numbers
      {"abs", Named("abs", 1, 1)},
      {"ceil", CeilFloor("ceil")},
      {"ceiling", CeilFloor("ceil")},
      {"floor", CeilFloor("floor")},
      {"round", Round},
      {"trunc", Refusal("trunc truncates dates on Spark: write CASE WHEN x < 0 THEN ceil(x) ELSE "
                        "floor(x) END")},
      {"sign", Template(1, "CAST(sign({0}) AS TINYINT)")},
      {"sqrt",
       [](const Call& c) -> Result<std::string> {
         DL_RETURN_IF_ERROR(c.Arity(1, 1));
         const std::string& x = c.args[0].spark;
         return "sqrt(" +
                FailWhen(fmt::format("({}) < 0", x), "cannot take square root of a negative number",
                         x) +
                ")";
       }},
      {"cbrt", Refusal("Spark's rounds its last digit otherwise")},
      {"pow", Refusal("Spark's rounds its last digit otherwise (pow(10, -5) is 1e-05 on DuckDB, "
                      "9.999999999999999e-06 on Spark): write the product, x * x")},
      {"power", Refusal("Spark's rounds its last digit otherwise (power(10, -5) is 1e-05 on "
                        "DuckDB, 9.999999999999999e-06 on Spark): write the product, x * x")},
      {"exp", Refusal("Spark's rounds its last digit otherwise: exp(1) is 2.718281828459045 on "
                      "DuckDB, 2.7182818284590455 on Spark")},
      {"ln", Refusal("Spark's rounds its last digit otherwise, and gives NULL where DuckDB fails")},
      {"log", Refusal("base 10 on DuckDB, natural on Spark, and Spark's rounds its last digit "
                      "otherwise")},
      {"log10", Refusal("Spark's rounds its last digit otherwise, and gives NULL where DuckDB "
                        "fails")},
      {"log2", Refusal("Spark's rounds its last digit otherwise, and gives NULL where DuckDB "
                       "fails")},
      {"mod", Named("mod", 2, 2)},
      {"greatest", Named("greatest", 1, 1000)},
      {"least", Named("least", 1, 1000)},
      {"isnan", Template(1, "(({0}) = CAST('NaN' AS DOUBLE))")},
      {"isinf",
       Template(1, "(({0}) IN (CAST('Infinity' AS DOUBLE), CAST('-Infinity' AS DOUBLE)))")},
      {"isfinite", Template(1,
                            "(NOT ({0}) IN (CAST('Infinity' AS DOUBLE), CAST('-Infinity' AS "
                            "DOUBLE), CAST('NaN' AS DOUBLE)))")},
      {"even", Refusal("no Spark counterpart")},
      {"gcd", Refusal("no Spark counterpart")},
      {"lcm", Refusal("no Spark counterpart")},
      // NULL handling and conditionals
      {"coalesce", Named("coalesce", 1, 1000)},
      {"nullif", Named("nullif", 2, 2)},
      {"ifnull", Named("ifnull", 2, 2)},
      {"if", Named("if", 3, 3)},
      // strings
      {"lower", Template(1, "lower(translate({0}, 'Σİ', 'σi'))")},
      {"lcase", Template(1, "lower(translate({0}, 'Σİ', 'σi'))")},
      {"upper", UpperCase},
      {"ucase", UpperCase},
      {"trim", TrimRule("BOTH")},
      {"ltrim", TrimRule("LEADING")},
      {"rtrim", TrimRule("TRAILING")},
      {"length", Named("length", 1, 1)},
      {"len", Named("length", 1, 1)},
      {"char_length", Named("length", 1, 1)},
      {"character_length", Named("length", 1, 1)},
      {"strlen", Named("octet_length", 1, 1)},
      {"octet_length", Named("octet_length", 1, 1)},
      {"substring", Substring},
      {"substr", Substring},
      {"left", LeftRight("left")},
      {"right", LeftRight("right")},
      {"concat", Concat(false)},
      {"concat_ws", Concat(true)},
      {"replace", Named("replace", 3, 3)},
      {"reverse", Refusal("DuckDB reverses characters as displayed (👍🏽 stays), Spark code "
                          "points")},
      {"lpad", Named("lpad", 3, 3)},
      {"rpad", Named("rpad", 3, 3)},
      {"repeat", Named("repeat", 2, 2)},
      {"strpos", Named("instr", 2, 2)},
      {"instr", Named("instr", 2, 2)},
      {"contains", Named("contains", 2, 2)},
      {"starts_with", Named("startswith", 2, 2)},
      {"prefix", Named("startswith", 2, 2)},
      {"ends_with", Named("endswith", 2, 2)},
      {"suffix", Named("endswith", 2, 2)},
      {"like_escape", LikeEscape(false, "LIKE")},
      {"not_like_escape", LikeEscape(true, "LIKE")},
      {"ilike_escape", LikeEscape(false, "ILIKE")},
      {"not_ilike_escape", LikeEscape(true, "ILIKE")},
      {"regexp_matches", Refusal("regular expressions are RE2 on DuckDB and Java's on Spark, "
                                 "which read some patterns otherwise: write LIKE")},
      {"regexp_full_match", Refusal("regular expressions are RE2 on DuckDB and Java's on Spark, "
                                    "which read some patterns otherwise: write LIKE")},
      {"regexp_replace", Refusal("regular expressions are RE2 on DuckDB and Java's on Spark, "
                                 "which read some patterns otherwise; DuckDB's replaces the "
                                 "first match, Spark's all: write replace()")},
      {"regexp_extract", Refusal("regular expressions are RE2 on DuckDB and Java's on Spark, "
                                 "which read some patterns otherwise: write split_part() or "
                                 "substring()")},
      {"split_part", SplitPart},
      {"md5", Named("md5", 1, 1)},
      {"sha256", Template(1, "sha2({0}, 256)")},
      {"hash", Refusal("another hash function on Spark")},
      {"ascii", Named("ascii", 1, 1)},
      {"chr", Chr},
      {"format", Refusal("no Spark counterpart: write ||")},
      {"printf", Refusal("Spark formats with Java's rules: write ||")},
      {"translate", Named("translate", 3, 3)},
      {"strip_accents", Refusal("no Spark counterpart")},
      {"nfc_normalize", Refusal("no Spark counterpart")},
      {"json_extract", Refusal("JSON paths and invalid JSON are read otherwise on Spark")},
      {"json_extract_string", Refusal("JSON paths and invalid JSON are read otherwise on Spark")},
      // dates and times
      {"date_part", DatePart},
      {"datepart", DatePart},
      {"date_trunc", DateTrunc},
      {"datetrunc", DateTrunc},
      {"date_diff", DateDiff},
      {"datediff", DateDiff},
      {"date_sub", DateSub},
      {"datesub", DateSub},
      {"date_add", Template(2, "(({0}) + ({1}))")},
      {"year", Named("year", 1, 1)},
      {"month", Named("month", 1, 1)},
      {"day", Named("day", 1, 1)},
      {"dayofmonth", Named("dayofmonth", 1, 1)},
      {"hour", Named("hour", 1, 1)},
      {"minute", Named("minute", 1, 1)},
      {"second", Named("second", 1, 1)},
      {"millisecond", Template(1, "CAST(extract(SECOND FROM {0}) * 1000 AS BIGINT)")},
      {"microsecond", Template(1, "CAST(extract(SECOND FROM {0}) * 1000000 AS BIGINT)")},
      {"dayofweek", Template(1, "(dayofweek({0}) - 1)")},
      {"isodow", Template(1, "(weekday({0}) + 1)")},
      {"dayofyear", Named("dayofyear", 1, 1)},
      {"week", Named("weekofyear", 1, 1)},
      {"weekofyear", Named("weekofyear", 1, 1)},
      {"quarter", Named("quarter", 1, 1)},
      {"epoch", Template(1, "(unix_micros(CAST({0} AS TIMESTAMP_LTZ)) / 1e6)")},
      {"epoch_ms", Refusal("DuckDB's takes a timestamp or a number of milliseconds, which the "
                           "text does not tell apart")},
      {"epoch_us", Refusal("DuckDB's takes a timestamp or a number of microseconds, which the "
                           "text does not tell apart")},
      {"epoch_ns", Refusal("DuckDB's takes a timestamp or a number of nanoseconds, which the "
                           "text does not tell apart")},
      {"make_date", Named("make_date", 3, 3)},
      {"make_time", Refusal("Spark has no TIME type here")},
      {"make_timestamp", MakeTimestamp},
      {"make_timestamptz", Named("make_timestamp", 6, 7)},
      {"to_timestamp", Named("timestamp_seconds", 1, 1)},
      {"strftime", Refusal("Spark formats dates with other patterns")},
      {"strptime", Refusal("Spark parses dates with other patterns: write CAST(x AS TIMESTAMP)")},
      {"try_strptime",
       Refusal("Spark parses dates with other patterns: write TRY_CAST(x AS TIMESTAMP)")},
      {"last_day", Named("last_day", 1, 1)},
      {"monthname", Template(1, "date_format({0}, 'MMMM')")},
      {"dayname", Template(1, "date_format({0}, 'EEEE')")},
      {"age", Refusal("no Spark counterpart: write date_diff()")},
      {"to_years", Refusal("DuckDB's intervals have no exact Spark counterpart here")},
      {"to_months", Refusal("DuckDB's intervals have no exact Spark counterpart here")},
      {"to_weeks", Refusal("DuckDB's intervals have no exact Spark counterpart here")},
      {"to_days", Refusal("DuckDB's intervals have no exact Spark counterpart here")},
      {"to_hours", Refusal("DuckDB's intervals have no exact Spark counterpart here")},
      {"to_minutes", Refusal("DuckDB's intervals have no exact Spark counterpart here")},
      {"to_seconds", Refusal("DuckDB's intervals have no exact Spark counterpart here")},
      {"to_milliseconds", Refusal("DuckDB's intervals have no exact Spark counterpart here")},
      {"to_microseconds", Refusal("DuckDB's intervals have no exact Spark counterpart here")},
      {"current_date", Named("current_date", 0, 0)},
      {"today", Named("current_date", 0, 0)},
      {"current_timestamp", Named("current_timestamp", 0, 0)},
      {"now", Named("current_timestamp", 0, 0)},
      {"get_current_timestamp", Named("current_timestamp", 0, 0)},
      {"current_time", Refusal("Spark has no TIME type here")},
      {"get_current_time", Refusal("Spark has no TIME type here")},
      {"timezone", Refusal("time zone conversions have no exact Spark counterpart here")},
      // lists and structs
      {"list_value", Refusal("lists are not compiled for Spark")},
      {"list_contains", Refusal("lists are not compiled for Spark")},
      {"list_has", Refusal("lists are not compiled for Spark")},
      {"array_contains", Refusal("lists are not compiled for Spark")},
      {"list_has_any", Refusal("lists are not compiled for Spark")},
      {"list_has_all", Refusal("lists are not compiled for Spark")},
      {"array_length", Refusal("lists are not compiled for Spark")},
      {"list_extract", Refusal("lists are not compiled for Spark")},
      {"array_extract", Refusal("lists are not compiled for Spark")},
      {"struct_extract", Refusal("write s.field")},
      {"struct_pack", Refusal("structs are not compiled for Spark")},
      {"row", Refusal("structs are not compiled for Spark")}};
  return *rules;
}

}  // namespace

std::string SpaceSeparators() {
  return SparkLiteral(
      " \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f"
      "\u205f\u3000");
}

Result<std::string> SparkCall(const std::string& name, const std::vector<Arg>& args,
                              std::string_view s, size_t at) {
  auto it = Rules().find(name);
  if (it == Rules().end()) {
    return Refuse(fmt::format("{}() (no Spark counterpart here)", name), s, at);
  }
  return it->second(Call{name, args, s, at});
}

}  // namespace dl::engine::spark::fragment
