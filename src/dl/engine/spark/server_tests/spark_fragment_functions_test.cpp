// Every function, operator and cast the fragment allowlist (engine/expression_check.cpp)
// accepts, on both engines: each case is evaluated on DuckDB and, compiled by SparkFragment,
// on the live Spark server (SPARK_REMOTE) over one row of typed columns (NULLs, negatives,
// zero, halves, NaN, empty and non-ASCII strings, dates, timestamps with and without a zone),
// and gives the same value there (or fails on both); or Spark fails it at run time naming
// why, where the value's type decides and no exact form exists; or SparkFragment refuses it.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <cstdlib>

#include "dl/engine/engine.hpp"
#include "dl/engine/expression_check.hpp"
#include "dl/engine/spark/server_tests/server_session.hpp"
#include "dl/engine/spark/spark_fragment.hpp"
#include "dl/engine/spark/spark_plan.hpp"
#include "dl/engine/spark/spark_session.hpp"

namespace dl::engine::spark {
namespace {

using ::testing::HasSubstr;

// The rows: each column's name, its type on DuckDB and on Spark, and its value in each row
// (nullptr: NULL): the first as the cases below expect, the second all NULL, the third other
// edge values (a negative half, 1969, a leap day, an eszett, a lone percent sign).
struct Column {
  const char* name;
  const char* duck_type;
  const char* spark_type;
  std::array<const char*, 3> values;
};
const Column kColumns[] = {
    {"i", "INTEGER", "INT", {"7", nullptr, "12"}},
    {"ni", "INTEGER", "INT", {"-7", nullptr, "-12"}},
    {"z", "INTEGER", "INT", {"0", nullptr, "0"}},
    {"n", "INTEGER", "INT", {nullptr, nullptr, nullptr}},
    {"big", "BIGINT", "BIGINT", {"9007199254740993", nullptr, "-9223372036854775808"}},
    {"d", "DOUBLE", "DOUBLE", {"2.5", nullptr, "-0.5"}},
    {"nd", "DOUBLE", "DOUBLE", {"-3.5", nullptr, "0.5"}},
    {"tie", "DOUBLE", "DOUBLE", {"1.005", nullptr, "2.675"}},
    {"nan", "DOUBLE", "DOUBLE", {"NaN", nullptr, "NaN"}},
    {"inf", "DOUBLE", "DOUBLE", {"-Infinity", nullptr, "Infinity"}},
    {"f", "FLOAT", "FLOAT", {"2.5", nullptr, "-2.5"}},
    {"dec", "DECIMAL(10,2)", "DECIMAL(10,2)", {"2.5", nullptr, "-2.5"}},
    {"ndec", "DECIMAL(10,2)", "DECIMAL(10,2)", {"-1.25", nullptr, "0.5"}},
    {"s",
     "VARCHAR",
     "STRING",
     {"h\xc3\xa9llo w\xc3\xb6rld", nullptr,
      "\xc3\x80\xc3\x89 stra\xc3\x9f"
      "e"}},
    {"e", "VARCHAR", "STRING", {"", nullptr, ""}},
    {"ns", "VARCHAR", "STRING", {nullptr, nullptr, nullptr}},
    // spaces of several kinds (NBSP, ideographic) around x
    {"sp", "VARCHAR", "STRING", {" \xc2\xa0x\xe3\x80\x80 ", nullptr, "x"}},
    // a final capital sigma, a dotted capital I, an eszett
    {"uc", "VARCHAR", "STRING", {"\xce\x91\xce\xa3 \xc4\xb0x \xc3\x9f", nullptr, "\xce\xa3"}},
    {"emoji", "VARCHAR", "STRING", {"\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbdx", nullptr, "\xc3\xa9"}},
    {"csv", "VARCHAR", "STRING", {"a,b,,c", nullptr, ","}},
    {"num", "VARCHAR", "STRING", {"2.5", nullptr, "-0.5"}},
    {"nnum", "VARCHAR", "STRING", {"-2.5", nullptr, "0.5"}},
    {"intstr", "VARCHAR", "STRING", {" 12 ", nullptr, "-7"}},
    {"bad", "VARCHAR", "STRING", {"abc", nullptr, "1x"}},
    {"p", "VARCHAR", "STRING", {"C:\\x%", nullptr, "%"}},
    {"q", "VARCHAR", "STRING", {"C:%", nullptr, "\\"}},
    {"dt", "DATE", "DATE", {"2024-03-10", nullptr, "1969-12-31"}},
    {"dt2", "DATE", "DATE", {"2024-01-31", nullptr, "2024-02-29"}},
    {"ts",
     "TIMESTAMP",
     "TIMESTAMP_NTZ",
     {"2024-03-10 12:34:56.789", nullptr, "1969-12-31 23:59:59.999999"}},
    {"ts2",
     "TIMESTAMP",
     "TIMESTAMP_NTZ",
     {"2023-12-31 23:59:59.5", nullptr, "2024-02-29 00:00:00"}},
    {"tz",
     "TIMESTAMPTZ",
     "TIMESTAMP_LTZ",
     {"2024-03-10 12:34:56.789+00:00", nullptr, "2000-01-01 00:00:00+00:00"}},
    {"b", "BOOLEAN", "BOOLEAN", {"true", nullptr, "false"}},
};
constexpr size_t kRows = 3;

enum class Expect {
  kSame,           ///< the same value on both
  kBothFail,       ///< an error on both (overflow, a bad cast, ...)
  kSparkFails,     ///< DuckDB gives a value; Spark fails the query, naming why (message)
  kRefused,        ///< SparkFragment refuses it (message)
  kDuckDbRefuses,  ///< the fragment check refuses it before any engine sees it
};

struct Case {
  const char* fragment;
  Expect expect = Expect::kSame;
  const char* message = "";
  bool midnight = false;  ///< a DATE on DuckDB, the same day at 00:00:00 on Spark (docs)
};

const Case kCases[] = {
    // arithmetic and bitwise operators
    {"i + 2"},
    {"ni - 3 * i"},
    {"i * ni"},
    {"i + 2147483647", Expect::kBothFail},  // overflow
    {"i / 2"},
    {"dec / 3 = 0.8333333333333334 AND 1.0 / 3 = 0.3333333333333333 AND ndec / -dec / i < 1"},
    {"dec * ndec + dec - ndec"},
    {"ni / 2"},
    {"i / z", Expect::kSparkFails, "DIVIDE_BY_ZERO"},  // inf on DuckDB
    {"i % 3"},
    {"ni % 3"},
    {"d % 2"},
    {"i % z", Expect::kSparkFails, "REMAINDER_BY_ZERO"},  // NULL on DuckDB
    {"-i + +i"},
    {"i & 6"},
    {"i | 8"},
    {"i & 6 & 3"},
    {"i // 2", Expect::kRefused, "`//`"},
    {"i ** 2", Expect::kRefused, "`**`"},
    {"i ^ 2", Expect::kRefused, "`^` (power on DuckDB, XOR on Spark"},
    {"i << 1", Expect::kRefused, "`<<`"},
    {"i >> 1", Expect::kRefused, "`>>`"},
    {"~i", Expect::kRefused, "`~`"},
    {"i & 1 | 2", Expect::kRefused, "& beside |"},
    // strings joined with ||: each value spelled as DuckDB spells it
    {"'a' || s || i || dec || b || dt"},
    {"s || ts || '/' || tz"},
    {"s || n"},
    {"(i + 1) || 'x'"},
    {"s || d", Expect::kSparkFails, "spelled otherwise as a string"},
    {"'a' || i + 1", Expect::kRefused, "|| beside +"},
    // comparisons and predicates
    {"i = 7 AND i == 7 AND i <> 6 AND i != 6"},
    {"i < d OR s > 'h'"},
    {"num = d AND num = 2.5"},
    {"intstr = 12"},
    {"bad = 1", Expect::kBothFail},
    {"dt = '2024-03-10' AND dt < ts AND ts = tz - INTERVAL 0 DAY"},
    {"b = 'true'"},
    {"n IS NULL AND i IS NOT NULL AND n ISNULL AND i NOTNULL"},
    {"i IS DISTINCT FROM n AND n IS NOT DISTINCT FROM NULL"},
    {"b IS TRUE AND CAST(n AS BOOLEAN) IS NOT FALSE AND b IS NOT UNKNOWN"},
    {"i IS TRUE", Expect::kSparkFails, "DATATYPE_MISMATCH"},  // a number as a truth value
    {"s LIKE 'h%' AND s ILIKE 'H\xc3\x89%' AND s NOT LIKE '%x'"},
    {"p LIKE 'C:\\x%' AND (q LIKE 'C:\\%') = false"},
    {"p LIKE q || '%'"},
    {"q LIKE concat(p, '')"},
    {"p NOT ILIKE lower(q)"},
    // ILIKE lowers as DuckDB lowers: a final capital sigma, a dotted capital I
    {"uc ILIKE '\xce\xb1\xcf\x83 ix \xc3\x9f' AND NOT uc ILIKE '\xce\xb1\xcf\x82%' AND "
     "'\xc4\xb0stanbul' ILIKE 'istanbul' AND NOT uc NOT ILIKE '%X%'"},
    {"p LIKE 'C:!x%' ESCAPE '!' OR q LIKE 'C!:!%' ESCAPE '!'"},
    {"(s LIKE 'h%') = true"},
    {"emoji LIKE '__x' AND 'a' || chr(10) || 'b' LIKE 'a%b' AND s LIKE 'h_llo%'"},
    {"s LIKE 'h%' = true", Expect::kRefused, "a comparison beside LIKE"},
    {"i BETWEEN 1 AND 10 AND i NOT BETWEEN 8 AND 9"},
    {"i BETWEEN 1 AND 10 = true", Expect::kRefused, "a comparison beside LIKE, IN or BETWEEN"},
    {"i IN (1, 7) AND i NOT IN (1, 2) AND (i NOT IN (1, n)) IS NULL"},
    {"i NOT IN (1, n) IS NULL", Expect::kRefused, "LIKE, IN or BETWEEN beside IS"},
    {"n IS NULL = b", Expect::kRefused, "a comparison after IS"},
    {"CASE WHEN i > 5 THEN 'big' ELSE 'small' END || CASE i WHEN 7 THEN 'seven' END"},
    {"NOT b OR NOT i = 7 OR n > 1"},
    {"coalesce(n, i, 0) + coalesce(n, 1)"},
    {"s GLOB 'h*'", Expect::kRefused, "GLOB"},
    {"s SIMILAR TO 'h.*'", Expect::kRefused, "SIMILAR TO"},
    {"s ~~ 'h%'", Expect::kRefused, "`~~` (write LIKE)"},
    {"s !~~ 'h%'", Expect::kRefused, "`!~~` (write NOT LIKE)"},
    {"s ~~* 'H%'", Expect::kRefused, "`~~*` (write ILIKE)"},
    {"s !~~* 'H%'", Expect::kRefused, "`!~~*` (write NOT ILIKE)"},
    {"s ~~~ 'h*'", Expect::kRefused, "`~~~`"},
    {"s ^@ 'h'", Expect::kRefused, "`^@` (write starts_with(a, b))"},
    {"s ->> 'a'", Expect::kRefused, "`->>`"},
    {"s -> 'a'", Expect::kDuckDbRefuses},  // a lambda to DuckDB's parser
    {"s ~ 'h.*'", Expect::kRefused, "`~`"},
    // numbers
    {"abs(ni) + abs(ndec) + abs(nd)"},
    {"ceil(dec) + ceiling(ndec) + floor(ndec) + ceil(nd) + floor(d) + floor(i)"},
    {"ceil(d * 1e300)", Expect::kSparkFails, "ceil of a DOUBLE beyond 2^63"},
    {"floor(nan)", Expect::kSparkFails, "floor of a DOUBLE beyond 2^63, NaN"},
    {"round(d) + round(nd) + round(dec) + round(ndec, 1) + round(15, -1) + round(dec, 0)"},
    {"round(tie, 2)", Expect::kSparkFails, "round of a DOUBLE to digits"},
    {"round(dec, 1)"},
    {"trunc(d)", Expect::kRefused, "trunc() (trunc truncates dates on Spark"},
    {"sign(ni) || sign(z) || sign(d)"},
    {"sqrt(i) = sqrt(7.0) AND sqrt(z) = 0"},
    {"sqrt(ni)", Expect::kBothFail},
    {"cbrt(i)", Expect::kRefused, "cbrt()"},
    {"pow(i, 2)", Expect::kRefused, "pow()"},
    {"power(i, 2)", Expect::kRefused, "power()"},
    {"exp(i)", Expect::kRefused, "exp()"},
    {"ln(i)", Expect::kRefused, "ln()"},
    {"log(i)", Expect::kRefused, "log() (base 10 on DuckDB, natural on Spark"},
    {"log10(i)", Expect::kRefused, "log10()"},
    {"log2(i)", Expect::kRefused, "log2()"},
    {"mod(i, 3) + mod(ni, 3) + mod(d, 2)"},
    {"greatest(i, ni, n) + least(i, ni, n) + greatest(d, 1)"},
    {"isnan(nan) AND NOT isnan(d) AND isnan(n) IS NULL AND NOT isnan(i)"},
    {"isinf(inf) AND NOT isinf(d) AND isinf(n) IS NULL AND NOT isinf(nan)"},
    {"isfinite(d) AND NOT isfinite(inf) AND NOT isfinite(nan) AND isfinite(n) IS NULL"},
    {"even(d)", Expect::kRefused, "even()"},
    {"gcd(i, 14)", Expect::kRefused, "gcd()"},
    {"lcm(i, 14)", Expect::kRefused, "lcm()"},
    // NULL handling and conditionals
    {"nullif(i, 7) IS NULL AND nullif(i, 6) = 7"},
    {"ifnull(n, 3) + ifnull(i, 3)"},
    {"if(i > 5, 'a', 'b') || if(n > 5, 'a', 'b')"},
    // strings
    {"lower(s) || lcase(uc) || lower(ns)"},
    {"upper(e) || ucase(emoji) || upper(ns) || upper('ab')"},
    // s has an eszett: ẞ on DuckDB, SS on Spark
    {"upper(s)", Expect::kSparkFails, "upper of a string with a letter Unicode upper-cases"},
    {"'[' || trim(sp) || '|' || ltrim(sp) || '|' || rtrim(sp) || ']'"},
    {"trim('xyaxy', 'xy') || ltrim('xyaxy', 'xy') || rtrim('xyaxy', 'xy') || trim(s, NULL)"},
    {"trim(BOTH 'x' FROM 'xax') || trim(LEADING FROM sp) || trim(TRAILING 'a' FROM 'aba')"},
    {"length(s) + len(emoji) + char_length(e) + character_length(uc) + strlen(s)"},
    {"octet_length(CAST(s AS BLOB))", Expect::kRefused, "a cast to BLOB"},
    {"substring(s, 2, 3) || substr(s, -3, 2) || substring(s, 4) || substring(s FROM 2 FOR 2)"},
    {"substring(emoji, 2, 1) || substring(s, 0) || substring(s, 9, 10)"},
    {"substring(s, 0, 3)", Expect::kSparkFails, "substring from position 0"},
    {"substring(s, 2, ni)", Expect::kSparkFails, "negative length"},
    {"substring(s, i - 5, i)"},
    {"left(s, 2) || right(s, 3) || left(e, 1) || right(s, 0) || left(s, i)"},
    {"left(s, -2)", Expect::kSparkFails, "left with a negative count"},
    {"right(s, ni)", Expect::kSparkFails, "right with a negative count"},
    {"concat(s, n, 'x', i, dec, dt, ts, tz, b) || concat(ns, ns)"},
    {"concat_ws('-', s, n, i, dt) || concat_ws(ns, 'a')"},
    {"concat(s, d)", Expect::kSparkFails, "spelled otherwise as a string"},
    {"replace(s, 'l', '\xc3\xbc') || replace(s, '', 'x') || replace(s, 'l', ns) IS NULL"},
    {"reverse(s)", Expect::kRefused, "reverse()"},
    {"lpad(s, 13, '\xc3\xbc') || rpad(s, 3, 'x') || lpad('ab', 5, 'xy')"},
    {"repeat(s, 2) || repeat('a', ni)"},
    {"position('l' IN s) + strpos(s, 'w') + instr(s, '') + strpos(s, 'zz')"},
    {"contains(s, '\xc3\xa9l') AND NOT contains(s, 'z') AND contains(s, ns) IS NULL"},
    {"starts_with(s, 'h\xc3\xa9') AND ends_with(s, 'ld') AND prefix(s, '') AND suffix(s, 'd')"},
    {"starts_with(ns, 'a') IS NULL"},
    {"like_escape(q, 'C:!%', '!') AND NOT not_like_escape(q, 'C:!%', '!')"},
    {"ilike_escape(q, 'c:!%', '!') AND NOT not_ilike_escape(q, 'c:!%', '!')"},
    {"like_escape(p, 'C:\\x%', '\\') OR like_escape(p, 'C:\\\\x\\%', '\\')"},
    {"regexp_matches(s, 'l+')", Expect::kRefused, "regexp_matches() (regular expressions"},
    {"regexp_full_match(s, 'h.*')", Expect::kRefused, "regexp_full_match()"},
    {"regexp_replace(s, 'l', 'L')", Expect::kRefused, "regexp_replace()"},
    {"regexp_extract(s, 'l+')", Expect::kRefused, "regexp_extract()"},
    {"split_part(csv, ',', 2) || split_part(csv, ',', -1) || split_part(csv, ',', 9) || "
     "split_part(csv, ',,', 1)"},
    {"split_part(csv, e, 1)", Expect::kSparkFails, "split_part with an empty delimiter"},
    {"split_part(csv, ',', z)", Expect::kSparkFails, "split_part with an empty delimiter"},
    {"md5(s) || md5(e) || sha256(s)"},
    {"hash(s)", Expect::kRefused, "hash()"},
    {"ascii(s) + ascii(e) + ascii(emoji)"},
    {"chr(65) || chr(233) || chr(i + 60)"},
    {"chr(i + 314)", Expect::kSparkFails, "chr of a code outside 0-255"},
    {"format('{}', s)", Expect::kRefused, "format()"},
    {"printf('%s', s)", Expect::kRefused, "printf()"},
    {"translate(s, 'lo', 'L') || translate(s, '\xc3\xa9', 'e')"},
    {"strip_accents(s)", Expect::kRefused, "strip_accents()"},
    {"nfc_normalize(s)", Expect::kRefused, "nfc_normalize()"},
    {"json_extract('{\"a\":1}', '$.a')", Expect::kRefused, "json_extract()"},
    {"json_extract_string('{\"a\":1}', '$.a')", Expect::kRefused, "json_extract_string()"},
    // dates and times
    {"date_part('year', dt) + date_part('quarter', ts) + date_part('month', tz) + "
     "date_part('day', dt) + date_part('hour', ts) + date_part('minute', tz)"},
    {"date_part('second', ts) + date_part('millisecond', ts) + date_part('microsecond', tz)"},
    {"date_part('dow', dt) || date_part('isodow', dt) || date_part('doy', ts) || "
     "date_part('week', dt2) || date_part('isoyear', DATE '2021-01-01')"},
    {"date_part('epoch', ts) = 1710074096.789 AND date_part('epoch', dt) = 1710028800 AND "
     "date_part('epoch', tz) = 1710074096.789 AND date_part('epoch', ts2) = 1704067199.5"},
    {"datepart('years', dt) + datepart('mon', ts) + datepart('d', dt) + datepart('hr', ts)"},
    {"extract(year FROM dt) + extract(dow FROM dt) + extract(second FROM ts) + "
     "extract('month' FROM tz)"},
    {"date_part('decade', dt)", Expect::kRefused, "date_part() (the part 'decade'"},
    {"date_part(s, dt)", Expect::kRefused, "a part that is not a literal string"},
    {"date_trunc('month', ts)", Expect::kSame, "", true},
    {"date_trunc('year', dt) = DATE '2024-01-01' AND date_trunc('week', dt) = DATE '2024-03-04'"},
    {"datetrunc('quarter', dt2)", Expect::kSame, "", true},
    {"date_trunc('hour', ts) = TIMESTAMP '2024-03-10 12:00:00' AND date_trunc('minute', tz) = "
     "TIMESTAMPTZ '2024-03-10 12:34:00+00' AND date_trunc('second', ts2) = "
     "TIMESTAMP '2023-12-31 23:59:59'"},
    {"date_trunc('millisecond', ts) = ts AND date_trunc('microsecond', tz) = tz"},
    {"date_trunc('day', tz) = TIMESTAMPTZ '2024-03-10 00:00:00+00'"},
    {"date_trunc('decade', dt)", Expect::kRefused, "date_trunc() (the part 'decade'"},
    {"date_diff('day', dt2, dt) || date_diff('month', dt2, dt) || date_diff('year', ts2, ts) || "
     "date_diff('quarter', ts2, dt) || date_diff('hour', ts2, ts) || date_diff('minute', ts, "
     "tz)"},
    {"datediff('second', ts2, TIMESTAMP '2024-01-01 00:00:00') || "
     "datediff('millisecond', ts2, ts) || datediff('microsecond', tz, ts) || "
     "date_diff('day', CAST(ns AS DATE), dt) IS NULL"},
    {"date_diff('week', dt2, dt)", Expect::kRefused, "date_diff() (the part 'week'"},
    {"date_sub('day', dt2, dt) || date_sub('hour', ts2, ts) || date_sub('minute', ts, ts2) || "
     "date_sub('second', ts2, ts) || date_sub('millisecond', ts2, ts) || "
     "datesub('microsecond', ts2, tz)"},
    {"date_sub('month', dt2, dt)", Expect::kRefused, "date_sub() (the part 'month'"},
    {"date_add(dt, 5) = DATE '2024-03-15' AND date_add(dt, INTERVAL 1 DAY) = DATE '2024-03-11'"},
    {"date_add(ts, INTERVAL 90 MINUTE)"},
    {"dt + INTERVAL 1 MONTH = DATE '2024-04-10' AND dt2 + INTERVAL '1' MONTH = DATE '2024-02-29'"},
    {"dt + 1 = DATE '2024-03-11' AND dt - 1 = DATE '2024-03-09'"},
    {"ts - INTERVAL '1 day'"},
    {"year(dt) + month(ts) + day(tz) + dayofmonth(dt) + hour(ts) + minute(tz) + second(ts2)"},
    {"millisecond(ts) + microsecond(tz) + millisecond(ts2)"},
    {"dayofweek(dt) || dayofweek(dt2) || isodow(dt) || isodow(dt2) || dayofyear(ts)"},
    {"week(dt) || weekofyear(DATE '2021-01-01') || quarter(ts2)"},
    {"epoch(ts) = 1710074096.789 AND epoch(dt) = 1710028800 AND epoch(tz) = 1710074096.789"},
    {"epoch_ms(ts)", Expect::kRefused, "epoch_ms()"},
    {"epoch_us(ts)", Expect::kRefused, "epoch_us()"},
    {"epoch_ns(ts)", Expect::kRefused, "epoch_ns()"},
    {"make_date(2024, 2, 29) = DATE '2024-02-29'"},
    {"make_date(2024, 2, 30)", Expect::kBothFail},
    {"make_time(1, 2, 3)", Expect::kRefused, "make_time()"},
    {"make_timestamp(2024, 3, 10, 12, 30, 15.5) || '/' || make_timestamp(1710074096500000)"},
    {"make_timestamptz(2024, 3, 10, 12, 30, 15.5) = TIMESTAMPTZ '2024-03-10 12:30:15.5+00'"},
    {"to_timestamp(1710074096.5) = TIMESTAMPTZ '2024-03-10 12:34:56.5+00'"},
    {"strftime(dt, '%Y')", Expect::kRefused, "strftime()"},
    {"strptime('2024', '%Y')", Expect::kRefused, "strptime()"},
    {"try_strptime('2024', '%Y')", Expect::kRefused, "try_strptime()"},
    {"last_day(dt) = DATE '2024-03-31' AND last_day(ts) = DATE '2024-03-31'"},
    {"monthname(dt) || dayname(dt) || monthname(tz) || dayname(dt2)"},
    {"age(ts, ts2)", Expect::kRefused, "age()"},
    {"to_years(1)", Expect::kRefused, "to_years()"},
    {"to_months(1)", Expect::kRefused, "to_months()"},
    {"to_weeks(1)", Expect::kRefused, "to_weeks()"},
    {"to_days(1)", Expect::kRefused, "to_days()"},
    {"to_hours(1)", Expect::kRefused, "to_hours()"},
    {"to_minutes(1)", Expect::kRefused, "to_minutes()"},
    {"to_seconds(1)", Expect::kRefused, "to_seconds()"},
    {"to_milliseconds(1)", Expect::kRefused, "to_milliseconds()"},
    {"to_microseconds(1)", Expect::kRefused, "to_microseconds()"},
    {"current_date = today() AND current_date() = today() AND current_date > dt"},
    {"current_timestamp = now() AND get_current_timestamp() = now() AND now() > tz"},
    {"current_time IS NULL", Expect::kRefused, "current_time (Spark has no TIME type"},
    {"current_time() IS NULL", Expect::kRefused, "current_time (Spark has no TIME type"},
    {"get_current_time() IS NULL", Expect::kRefused, "get_current_time()"},
    {"timezone('UTC', tz)", Expect::kRefused, "timezone()"},
    {"tz AT TIME ZONE 'UTC'", Expect::kRefused, "AT TIME ZONE"},
    // lists and structs
    {"list_value(1, 2) IS NULL", Expect::kRefused, "list_value()"},
    {"[1, 2] IS NULL", Expect::kRefused, "a list or subscript"},
    {"list_contains(list_value(1), 1)", Expect::kRefused, "lists are not compiled for Spark"},
    {"list_has(list_value(1), 1)", Expect::kRefused, "lists are not compiled for Spark"},
    {"array_contains(list_value(1), 1)", Expect::kRefused, "lists are not compiled for Spark"},
    {"list_has_any(list_value(1), list_value(1))", Expect::kRefused,
     "lists are not compiled for Spark"},
    {"list_has_all(list_value(1), list_value(1))", Expect::kRefused,
     "lists are not compiled for Spark"},
    {"array_length(list_value(1))", Expect::kRefused, "lists are not compiled for Spark"},
    {"list_extract(list_value(1), 1)", Expect::kRefused, "lists are not compiled for Spark"},
    {"array_extract(list_value(1), 1)", Expect::kRefused, "lists are not compiled for Spark"},
    {"struct_extract(s, 'a')", Expect::kRefused, "struct_extract() (write s.field)"},
    {"struct_pack(a := 1) IS NULL", Expect::kRefused, "a : (slices and named arguments"},
    {"row(1, 2) IS NULL", Expect::kRefused, "row()"},
    {"{'a': 1} IS NULL", Expect::kRefused, "a struct literal"},
    // casts to each type
    {"CAST(num AS INTEGER) || CAST(nnum AS INTEGER) || CAST(d AS INTEGER) || "
     "CAST(nd AS BIGINT) || CAST(f AS SMALLINT) || CAST(dec AS TINYINT) || "
     "CAST(ndec AS INTEGER) || CAST(intstr AS INTEGER) || CAST(b AS INTEGER)"},
    {"CAST(big AS BIGINT) || CAST(CAST(big AS VARCHAR) AS BIGINT) || CAST('1e3' AS INT)"},
    {"CAST(bad AS INTEGER)", Expect::kBothFail},
    {"CAST(i * 1000 AS TINYINT)", Expect::kBothFail},  // out of range
    {"CAST(nan AS INTEGER)", Expect::kBothFail},
    {"CAST(inf AS DECIMAL(10,0))", Expect::kBothFail},
    {"TRY_CAST(nan AS INTEGER) IS NULL AND TRY_CAST(inf AS DECIMAL(10,0)) IS NULL"},
    {"TRY_CAST(bad AS INTEGER) IS NULL AND TRY_CAST(num AS INTEGER) = 3"},
    {"TRY_CAST(d AS INT) = 2 AND TRY_CAST(i * 1000 AS TINYINT) IS NULL"},
    {"d::INTEGER + nd::INT + num::BIGINT + '12'::SMALLINT + dec::TINYINT"},
    {"CAST(d AS DECIMAL(10,0)) || CAST(nd AS DECIMAL(4,0)) || CAST(num AS DECIMAL(10,2)) || "
     "CAST(dec AS DECIMAL(10,1)) || CAST(num AS DECIMAL) || CAST(i AS NUMERIC(5,2))"},
    {"CAST(tie AS DECIMAL(10,2))", Expect::kSparkFails, "a DOUBLE cast to a DECIMAL with digits"},
    {"CAST(i AS VARCHAR) || CAST(dec AS VARCHAR) || CAST(dt AS VARCHAR) || "
     "CAST(ts AS VARCHAR) || CAST(tz AS VARCHAR) || CAST(b AS VARCHAR) || CAST(n AS TEXT)"},
    {"CAST(d AS VARCHAR)", Expect::kSparkFails, "spelled otherwise as a string"},
    {"CAST(num AS DOUBLE) + CAST(num AS FLOAT) + CAST(i AS DOUBLE) + CAST('1e400' AS DOUBLE)"},
    {"CAST('true' AS BOOLEAN) AND CAST(i AS BOOLEAN) AND NOT CAST(z AS BOOLEAN) AND "
     "CAST('yes' AS BOOL)"},
    {"CAST('2024-03-10' AS DATE) = dt AND CAST(ts AS DATE) = dt AND CAST(tz AS DATE) = dt"},
    {"CAST(dt AS TIMESTAMP) || '/' || CAST('2024-03-10 01:02:03+02' AS TIMESTAMP) || '/' || "
     "CAST(tz AS TIMESTAMP)"},
    {"CAST(ts AS TIMESTAMPTZ) || '/' || "
     "CAST('2024-03-10 01:02:03' AS TIMESTAMP WITH TIME ZONE) || '/' || CAST(dt AS TIMESTAMPTZ)"},
    {"DATE '2024-03-10' = dt AND TIMESTAMP '2024-03-10 12:34:56.789' = ts AND "
     "TIMESTAMPTZ '2024-03-10 12:34:56.789+00' = tz"},
    {"CAST(i AS HUGEINT)", Expect::kRefused, "a cast to HUGEINT"},
    {"CAST(i AS UTINYINT)", Expect::kRefused, "a cast to UTINYINT (Spark has no unsigned"},
    {"CAST(i AS USMALLINT)", Expect::kRefused, "a cast to USMALLINT"},
    {"CAST(i AS UINTEGER)", Expect::kRefused, "a cast to UINTEGER"},
    {"CAST(i AS UBIGINT)", Expect::kRefused, "a cast to UBIGINT"},
    {"CAST(i AS UHUGEINT)", Expect::kRefused, "a cast to UHUGEINT"},
    {"CAST(s AS BLOB)", Expect::kRefused, "a cast to BLOB"},
    {"CAST('12:00' AS TIME)", Expect::kRefused, "a cast to TIME"},
    {"CAST(ts AS TIMESTAMP_S)", Expect::kRefused, "a cast to TIMESTAMP_S"},
    {"CAST(ts AS TIMESTAMP_MS)", Expect::kRefused, "a cast to TIMESTAMP_MS"},
    {"CAST(ts AS TIMESTAMP_NS)", Expect::kRefused, "a cast to TIMESTAMP_NS"},
    {"CAST('1 day' AS INTERVAL)", Expect::kRefused, "a cast to INTERVAL"},
    {"CAST(s AS UUID)", Expect::kRefused, "a cast to UUID"},
};

std::unique_ptr<SparkSession> Session() {
  auto session = ServerSession();
  if (!session) return nullptr;
  // As every load sets them (PrepareSession).
  EXPECT_TRUE(session->SetConf("spark.sql.ansi.enabled", "true").ok());
  EXPECT_TRUE(session->SetConf("spark.sql.session.timeZone", "UTC").ok());
  return session;
}

std::string WithoutTrailingZeros(std::string v) {
  const size_t dot = v.find('.');
  if (dot == std::string::npos || v.find_first_of("eE") != std::string::npos) return v;
  size_t end = v.find_first_not_of("0123456789", dot + 1);
  if (end == std::string::npos) end = v.size();
  size_t cut = end;
  while (cut > dot + 1 && v[cut - 1] == '0') --cut;
  if (cut == dot + 1) cut = dot;
  return v.substr(0, cut) + v.substr(end);
}

bool IsNumber(const std::string& v, double& out) {
  if (v.empty()) return false;
  char* end = nullptr;
  out = std::strtod(v.c_str(), &end);
  return end == v.c_str() + v.size();
}

// DuckDB prints values as CAST(... AS VARCHAR) does, the Spark client's decode as its
// docs say: the same value in either spelling (2.0 and 2, ...:56.780 and ...:56.78, a zone's
// +00 and none) is equal; a number's last digit is not.
bool SameValue(const std::optional<std::string>& duck, const std::optional<std::string>& spark,
               bool midnight) {
  if (!duck || !spark) return !duck && !spark;
  std::string a = *duck, b = *spark;
  if (a.size() > 3 && a.compare(a.size() - 3, 3, "+00") == 0 &&
      b.find("+00") == std::string::npos) {
    a.resize(a.size() - 3);
  }
  a = WithoutTrailingZeros(a);
  b = WithoutTrailingZeros(b);
  if (a == b || (midnight && b == a + " 00:00:00")) return true;
  double x = 0, y = 0;
  return IsNumber(a, x) && IsNumber(b, y) && x == y &&
         a.find_first_not_of("-0123456789") != std::string::npos;
}

class SparkFragmentFunctionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spark_ = Session();
    ASSERT_TRUE(spark_);
    auto duck = MakeDuckDbEngine();
    ASSERT_TRUE(duck.ok()) << duck.status().ToString();
    duck_ = std::move(*duck);
    // One SELECT per row, in order, each value a cast of its text.
    for (size_t r = 0; r < kRows; ++r) {
      std::string duck = "SELECT " + std::to_string(r) + " AS _r", spark = duck;
      for (const Column& c : kColumns) {
        const char* v = c.values[r];
        duck += fmt::format(", CAST({} AS {}) AS {}", v ? QuoteLiteral(v) : "NULL", c.duck_type,
                            c.name);
        spark += fmt::format(", CAST({} AS {}) AS {}", v ? SparkLiteral(v) : "NULL", c.spark_type,
                             c.name);
      }
      duck_rows_ += (r ? " UNION ALL " : "") + duck;
      spark_rows_ += (r ? " UNION ALL " : "") + spark;
    }
    auto duck_count = duck_->Query("SELECT count(*) FROM (" + duck_rows_ + ")");
    ASSERT_TRUE(duck_count.ok()) << duck_count.status().ToString();
    auto spark_count = spark_->Sql("SELECT count(*) FROM (" + spark_rows_ + ")");
    ASSERT_TRUE(spark_count.ok()) << spark_count.status().ToString();
  }

  // One case: its failures are reported, and the next case runs.
  void Try(const Case& c) {
    SCOPED_TRACE(c.fragment);
    auto checked = CheckExpression(*duck_, c.fragment, "fragment", Qualifiers::kAny);
    if (c.expect == Expect::kDuckDbRefuses) {
      EXPECT_FALSE(checked.ok());
      EXPECT_FALSE(SparkFragment(c.fragment).ok());
      return;
    }
    ASSERT_TRUE(checked.ok()) << checked.status().ToString();
    auto compiled = SparkFragment(c.fragment);
    if (c.expect == Expect::kRefused) {
      ASSERT_FALSE(compiled.ok()) << "compiled to " << *compiled;
      EXPECT_THAT(compiled.status().message(), HasSubstr(c.message));
      return;
    }
    ASSERT_TRUE(compiled.ok()) << compiled.status().ToString();
    auto want = duck_->Query("SELECT (" + std::string(c.fragment) + "\n) AS v FROM (" + duck_rows_ +
                             ") AS t ORDER BY _r");
    auto got = spark_->Sql("SELECT (" + *compiled + "\n) AS v FROM (" + spark_rows_ +
                           ") AS t ORDER BY _r");
    if (c.expect == Expect::kSparkFails) {
      ASSERT_TRUE(want.ok()) << want.status().ToString();
      ASSERT_FALSE(got.ok()) << "Spark gave " << got->rows[0].at(0).value_or("NULL")
                             << " for DuckDB's " << want->rows.at(0).at(0).value_or("NULL");
      EXPECT_THAT(got.status().message(), HasSubstr(c.message));
      return;
    }
    if (c.expect == Expect::kBothFail) {
      EXPECT_FALSE(want.ok());
      EXPECT_FALSE(got.ok()) << "Spark gave " << got->rows[0].at(0).value_or("NULL");
      return;
    }
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    ASSERT_TRUE(got.ok()) << got.status().ToString().substr(0, 600)
                          << "\nas Spark SQL: " << *compiled;
    ASSERT_EQ(got->rows.size(), kRows);
    for (size_t r = 0; r < kRows; ++r) {
      EXPECT_TRUE(SameValue(want->rows.at(r).at(0), got->rows[r].at(0), c.midnight))
          << "row " << r << "\nDuckDB: " << want->rows.at(r).at(0).value_or("NULL")
          << "\nSpark: " << got->rows[r].at(0).value_or("NULL") << "\nas Spark SQL: " << *compiled;
    }
  }

  std::unique_ptr<SparkSession> spark_;
  std::unique_ptr<Engine> duck_;
  std::string duck_rows_, spark_rows_;
};

TEST_F(SparkFragmentFunctionsTest, EachCaseMeansOnSparkWhatItMeansOnDuckDb) {
  for (const Case& c : kCases) Try(c);
}

std::string Lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// A function or operator the allowlist gains fails here until a case above tries it.
TEST(SparkFragmentCoverageTest, EveryAllowlistedFunctionOperatorAndCastHasACase) {
  std::string all;
  for (const Case& c : kCases) all += " " + Lower(c.fragment) + " ";
  for (const std::string& name : AllowedFunctions()) {
    // a function called or (current_date) named bare; an operator between spaces
    const bool word = std::isalpha(static_cast<unsigned char>(name[0]));
    const std::string needle = word ? name : " " + name + " ";
    auto word_char = [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
    };
    bool found = false;
    for (size_t at = all.find(needle); at != std::string::npos; at = all.find(needle, at + 1)) {
      if (!word || (!word_char(all[at - 1]) && !word_char(all[at + needle.size()]))) {
        found = true;
        break;
      }
    }
    EXPECT_TRUE(found) << name << " has no case";
  }
  for (const std::string& type : AllowedCastTypes()) {
    EXPECT_NE(all.find(" as " + Lower(type) + ")"), std::string::npos) << type << " has no case";
  }
}

}  // namespace
}  // namespace dl::engine::spark
