// The parts SparkFragment (spark_fragment.hpp) is made of: DuckDB's tokens
// (spark_fragment_lex.cpp), one level's operators (spark_fragment_levels.cpp), and the
// functions and casts of the allowlist (engine/expression_check.cpp) as Spark SQL that means
// the same (spark_fragment_calls.cpp, spark_fragment_casts.cpp). Internal to the compiler.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dl/common/status.hpp"

namespace dl::engine::spark::fragment {

enum class Kind { kSpace, kWord, kNumber, kString, kName, kOp };

struct Token {
  Kind kind;
  std::string text;  ///< kString, kName: the value; the others: the text as DuckDB lexes it
  size_t at = 0;     ///< where it starts in the fragment
};

/// `fragment` as DuckDB's lexer (libpg_query's scan.l) splits it; operators as DuckDB's
/// {operator} rule cuts them ("=-" is "=" then "-", "<=>" one operator). InvalidArgument
/// naming what it cannot carry over (E'' strings, parameters, brackets, ...).
Result<std::vector<Token>> Lex(std::string_view fragment);

/// A character of a DuckDB identifier after its first: an ASCII letter or digit, _, $, or a
/// byte of a non-ASCII character.
bool IsWordChar(char c);

/// `s` with its ASCII letters in lower (upper) case: keywords, function and type names.
std::string AsciiLower(std::string_view s);
std::string AsciiUpper(std::string_view s);

/// The characters DuckDB's one-argument trim removes (Unicode's space separators; Spark's
/// trim removes only ' '), as a Spark string literal.
std::string SpaceSeparators();

/// InvalidArgument "<what> at '<the fragment from at>'".
Status Refuse(std::string_view what, std::string_view fragment, size_t at);

/// What a unit of one level of the compiled fragment is.
enum class Role { kSpace, kPrimary, kOp, kKeyword };

/// A piece of one level of the compiled fragment: a space, an operator, a keyword, or a
/// value (a literal, a name, a call, a cast, a parenthesized group, a CASE).
struct Unit {
  Unit(Role r, std::string t, std::string k, size_t a)
      : role(r), text(std::move(t)), key(std::move(k)), at(a) {}

  Role role;
  std::string text;  ///< Spark SQL
  std::string key;   ///< kOp: the operator; kKeyword: the word in lower case
  size_t at = 0;
  std::optional<std::string> string_value;  ///< a primary that is one string literal
  std::optional<long long> integer;         ///< a primary that is one integer literal
  bool number = false;                      ///< a primary that is one number literal
  bool is_text = false;                     ///< a primary of type VARCHAR (|| takes it as it is)
};

bool Is(const Unit& u, Role role, std::string_view key);

/// units[from, to) as Spark SQL: a space between two units Spark would read as one token.
std::string Join(const std::vector<Unit>& units, size_t from, size_t to);

/// Refuses the level where DuckDB and Spark group its operators otherwise (a comparison
/// beside LIKE, IN or BETWEEN, || beside + or -, & beside |, ...), naming the operator.
Status CheckGrouping(const std::vector<Unit>& units, std::string_view fragment);

/// Each divisor of / as a DOUBLE, as DuckDB divides.
void DivideAsDoubles(std::vector<Unit>& units);

/// Each operand of || spelled as DuckDB's implicit VARCHAR cast spells it (SparkVarchar).
void WrapConcatOperands(std::vector<Unit>& units);

/// The patterns (and ILIKE's sides) of the level's LIKEs as Spark reads them.
Status LikePatterns(std::vector<Unit>& units, std::string_view fragment);

/// One argument of a call, compiled: its Spark SQL and, when it is one literal, its value.
struct Arg {
  std::string spark;
  std::optional<long long> integer;  ///< an integer literal (a leading minus included)
  std::optional<std::string> text;   ///< a string literal's value
  size_t at = 0;
};

/// `name(args)` (DuckDB's name, lower case) as Spark SQL meaning the same; InvalidArgument
/// naming the function and what to write instead where there is none. `fragment` and `at`
/// locate the call for messages.
Result<std::string> SparkCall(const std::string& name, const std::vector<Arg>& args,
                              std::string_view fragment, size_t at);

/// A DuckDB type as its lower-case words ("timestamp with time zone") with its parameters
/// ("(10,2)" or "").
struct TypeName {
  std::string words;
  std::vector<long long> params;
};

/// CAST(`operand` AS type) (TRY_CAST with `try_cast`) as Spark SQL meaning the same, for
/// an operand whose DuckDB type is unknown here (or VARCHAR: `operand_is_string`).
Result<std::string> SparkCast(const std::string& operand, const TypeName& type, bool try_cast,
                              bool operand_is_string, std::string_view fragment, size_t at);

/// `operand` as the string DuckDB's implicit VARCHAR cast makes of it (what || and concat
/// join): Spark's own text where it is DuckDB's, a zoned timestamp with "+00", and a run
/// time error for types Spark spells otherwise (DOUBLE, FLOAT, BLOB, INTERVAL, nested).
std::string SparkVarchar(const std::string& operand);

/// A LIKE pattern with an ESCAPE character, as Spark reads it: DuckDB takes the escape
/// before any character as that character, Spark only before %, _ and itself.
std::string LikePatternWithEscape(std::string_view pattern, std::string_view escape);

/// A Spark expression that fails the query with `message` (USER_RAISED_EXCEPTION).
std::string RaiseError(std::string_view message);

/// CASE WHEN `when` THEN <fail with `why`> ELSE `value` END.
std::string FailWhen(std::string_view when, std::string_view why, std::string_view value);

/// A condition that `x` is a DOUBLE or FLOAT (typeof(), folded by Spark).
std::string IsFloating(std::string_view x);

}  // namespace dl::engine::spark::fragment
