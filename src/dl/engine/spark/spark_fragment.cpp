// DuckDB's tokens (spark_fragment_lex.cpp), grouped by parentheses, become Spark SQL one
// level at a time: a call, a cast, a CASE or a parenthesized group is one unit, rendered
// by what it means (spark_fragment_calls.cpp, spark_fragment_casts.cpp); operators are kept
// where Spark reads them as DuckDB does and refused where it does not; each level's
// operators are then checked and rewritten (spark_fragment_levels.cpp).
#include "dl/engine/spark/spark_fragment.hpp"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <set>
#include <vector>

#include "dl/engine/spark/spark_fragment_parts.hpp"
#include "dl/engine/spark/spark_plan.hpp"

namespace dl::engine::spark {
namespace {

using fragment::Arg;
using fragment::AsciiLower;
using fragment::Is;
using fragment::IsWordChar;
using fragment::Join;
using fragment::Kind;
using fragment::Refuse;
using fragment::Role;
using fragment::Token;
using fragment::Unit;

// Longest Spark SQL a fragment may compile to (some casts repeat their operand).
constexpr size_t kMaxSparkBytes = 64 * 1024;

struct Node {
  const Token* token = nullptr;  ///< a token, or (null) a parenthesized group
  std::vector<Node> inner;
  size_t at = 0;
};

Result<std::vector<Node>> Group(const std::vector<Token>& tokens, size_t& i, std::string_view s,
                                bool nested) {
  std::vector<Node> out;
  while (i < tokens.size()) {
    const Token& t = tokens[i];
    if (t.kind == Kind::kOp && t.text == ")") {
      if (!nested) return Refuse("a ) that closes nothing", s, t.at);
      return out;
    }
    ++i;
    if (t.kind == Kind::kOp && t.text == "(") {
      DL_ASSIGN_OR_RETURN(auto inner, Group(tokens, i, s, true));
      if (i >= tokens.size()) return Refuse("a ( that is never closed", s, t.at);
      ++i;  // the )
      out.push_back({nullptr, std::move(inner), t.at});
    } else {
      out.push_back({&t, {}, t.at});
    }
  }
  return out;
}

// A bare name Spark reads as the same name (its keywords and functions are all such words).
bool IsSparkWord(std::string_view w) {
  for (char c : w) {
    if (!IsWordChar(c) || c == '$' || static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// Words that build an expression around their operands rather than name a column or call a
// function (a group after them is an operand, not an argument list).
const std::set<std::string, std::less<>> kKeywords = {
    "and",        "or",     "not",  "is",       "in",   "like", "ilike", "between", "symmetric",
    "asymmetric", "escape", "from", "distinct", "when", "then", "else",  "end",     "to"};
// DuckDB operators Spark reads otherwise or not at all, and what to write instead.
const std::map<std::string, std::string, std::less<>> kRefusedOps = {
    {"^", "`^` (power on DuckDB, XOR on Spark; write the product, x * x)"},
    {"**", "`**` (power; Spark has no such operator: write the product, x * x)"},
    {"//",
     "`//` (integer division of integers, division of other numbers, on DuckDB; write "
     "(a - a % b) / b)"},
    {"~",
     "`~` (bitwise NOT or a regular expression match on DuckDB, grouped otherwise on "
     "Spark; write -x - 1 for ~x)"},
    {"~~", "`~~` (write LIKE)"},
    {"!~~", "`!~~` (write NOT LIKE)"},
    {"~~*", "`~~*` (write ILIKE)"},
    {"!~~*", "`!~~*` (write NOT ILIKE)"},
    {"~~~", "`~~~` (GLOB has no Spark counterpart; write LIKE)"},
    {"^@", "`^@` (write starts_with(a, b))"},
    {"->", "`->` (JSON extraction has no Spark counterpart here)"},
    {"->>", "`->>` (JSON extraction has no Spark counterpart here)"},
    {"<<", "`<<` (a shift past the width fails on DuckDB and wraps on Spark)"},
    {">>", "`>>` (a shift past the width fails on DuckDB and wraps on Spark)"}};
const std::set<std::string, std::less<>> kKeptOps = {
    "+", "-", "*", "/", "%", "=", "==", "<>", "!=", "<", ">", "<=", ">=", "||", "&", "|", ","};

// Functions whose value is a VARCHAR whatever their arguments.
const std::set<std::string, std::less<>> kTextFunctions = {
    "lower",  "lcase",  "trim",      "ltrim",      "rtrim",     "substring", "substr", "left",
    "right",  "concat", "concat_ws", "replace",    "lpad",      "rpad",      "repeat", "md5",
    "sha256", "chr",    "translate", "split_part", "monthname", "dayname"};

std::string Stripped(std::string s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::vector<Node> Slice(const std::vector<Node>& nodes, size_t from, size_t to) {
  return {nodes.begin() + static_cast<long>(from), nodes.begin() + static_cast<long>(to)};
}

class Compiler {
 public:
  explicit Compiler(std::string_view s) : s_(s) {}

  Result<std::string> Sequence(const std::vector<Node>& nodes) {
    DL_ASSIGN_OR_RETURN(auto units, Units(nodes));
    DL_RETURN_IF_ERROR(Level(units));
    return Join(units, 0, units.size());
  }

 private:
  size_t NextSolid(const std::vector<Node>& nodes, size_t i) const {
    while (i < nodes.size() && nodes[i].token && nodes[i].token->kind == Kind::kSpace) ++i;
    return i;
  }
  static bool IsWord(const std::vector<Node>& nodes, size_t i, std::string_view lower) {
    return i < nodes.size() && nodes[i].token && nodes[i].token->kind == Kind::kWord &&
           AsciiLower(nodes[i].token->text) == lower;
  }
  static bool IsGroup(const std::vector<Node>& nodes, size_t i) {
    return i < nodes.size() && !nodes[i].token;
  }
  static size_t LastSolid(const std::vector<Unit>& units) {
    for (size_t k = units.size(); k-- > 0;) {
      if (units[k].role != Role::kSpace) return k;
    }
    return units.size();
  }

  // The level's operators, checked and rewritten (spark_fragment_levels.cpp).
  Status Level(std::vector<Unit>& units) const {
    DL_RETURN_IF_ERROR(fragment::CheckGrouping(units, s_));
    fragment::DivideAsDoubles(units);
    fragment::WrapConcatOperands(units);
    return fragment::LikePatterns(units, s_);
  }

  Result<std::vector<Unit>> Units(const std::vector<Node>& nodes);
  Result<size_t> Word(const std::vector<Node>& nodes, size_t i, std::vector<Unit>& units);
  Result<size_t> CaseUnit(const std::vector<Node>& nodes, size_t i, std::vector<Unit>& units);
  Result<size_t> IntervalUnit(const std::vector<Node>& nodes, size_t i, std::vector<Unit>& units);
  Result<size_t> Operator(const std::vector<Node>& nodes, size_t i, std::vector<Unit>& units);
  Result<std::optional<fragment::TypeName>> TypeAt(const std::vector<Node>& nodes, size_t& i);
  Result<std::string> Call(const std::string& name, const Node& group, size_t at);
  Result<std::string> Cast(const Node& group, bool try_cast, size_t at);
  Result<std::string> TrimFrom(const std::vector<Node>& nodes, size_t at);
  Result<Arg> ArgOf(const std::vector<Node>& nodes, size_t at);

  std::string_view s_;
};

Result<std::vector<Unit>> Compiler::Units(const std::vector<Node>& nodes) {
  std::vector<Unit> units;
  size_t i = 0;
  while (i < nodes.size()) {
    const Node& n = nodes[i];
    if (!n.token) {
      DL_ASSIGN_OR_RETURN(auto inner, Sequence(n.inner));
      units.emplace_back(Role::kPrimary, "(" + inner + ")", "", n.at);
      ++i;
      continue;
    }
    const Token& t = *n.token;
    switch (t.kind) {
      case Kind::kSpace:
        units.emplace_back(Role::kSpace, t.text, "", t.at);
        ++i;
        break;
      case Kind::kString:
        units.emplace_back(Role::kPrimary, SparkLiteral(t.text), "", t.at);
        units.back().string_value = t.text;
        units.back().is_text = true;
        ++i;
        break;
      case Kind::kNumber: {
        Unit u(Role::kPrimary, t.text, "", t.at);
        u.number = true;
        if (t.text.find_first_not_of("0123456789") == std::string::npos && t.text.size() < 19) {
          u.integer = std::stoll(t.text);
        }
        units.push_back(std::move(u));
        ++i;
        break;
      }
      case Kind::kName:
        units.emplace_back(Role::kPrimary, SparkIdent(t.text), "", t.at);
        ++i;
        break;
      case Kind::kWord: {
        DL_ASSIGN_OR_RETURN(i, Word(nodes, i, units));
        break;
      }
      case Kind::kOp: {
        DL_ASSIGN_OR_RETURN(i, Operator(nodes, i, units));
        break;
      }
    }
  }
  return units;
}

// CASE ... END, nested CASEs included: one unit.
Result<size_t> Compiler::CaseUnit(const std::vector<Node>& nodes, size_t i,
                                  std::vector<Unit>& units) {
  const Token& t = *nodes[i].token;
  size_t end = i + 1;
  for (int depth = 0; end < nodes.size(); ++end) {
    if (IsWord(nodes, end, "case")) ++depth;
    if (IsWord(nodes, end, "end") && depth-- == 0) break;
  }
  if (end >= nodes.size()) return Refuse("a CASE without END", s_, t.at);
  DL_ASSIGN_OR_RETURN(auto body, Sequence(Slice(nodes, i + 1, end)));
  units.emplace_back(Role::kPrimary, t.text + body + nodes[end].token->text, "", t.at);
  return end + 1;
}

// An interval literal, which Spark writes alike: INTERVAL '1 day', INTERVAL 1 DAY,
// INTERVAL '1' DAY.
Result<size_t> Compiler::IntervalUnit(const std::vector<Node>& nodes, size_t i,
                                      std::vector<Unit>& units) {
  static const std::set<std::string, std::less<>> kUnits = {
      "year",   "years",   "month",       "months",       "week",        "weeks",
      "day",    "days",    "hour",        "hours",        "minute",      "minutes",
      "second", "seconds", "millisecond", "milliseconds", "microsecond", "microseconds"};
  const Token& t = *nodes[i].token;
  size_t k = NextSolid(nodes, i + 1);
  if (k >= nodes.size() || !nodes[k].token ||
      (nodes[k].token->kind != Kind::kString && nodes[k].token->kind != Kind::kNumber)) {
    return Refuse("an INTERVAL that is not a literal (write INTERVAL '1 day' or INTERVAL 1 DAY)",
                  s_, t.at);
  }
  const Token& v = *nodes[k].token;
  std::string text = t.text + " " + (v.kind == Kind::kString ? SparkLiteral(v.text) : v.text);
  const size_t u = NextSolid(nodes, k + 1);
  if (u < nodes.size() && nodes[u].token && nodes[u].token->kind == Kind::kWord &&
      kUnits.count(AsciiLower(nodes[u].token->text))) {
    text += " " + nodes[u].token->text;
    k = u;
  }
  units.emplace_back(Role::kPrimary, text, "", t.at);
  return k + 1;
}

Result<size_t> Compiler::Word(const std::vector<Node>& nodes, size_t i, std::vector<Unit>& units) {
  const Token& t = *nodes[i].token;
  const std::string w = AsciiLower(t.text);
  const size_t next = NextSolid(nodes, i + 1);
  if (w == "case") return CaseUnit(nodes, i, units);
  if (w == "interval") return IntervalUnit(nodes, i, units);
  if (w == "glob" || w == "similar") {
    return Refuse(
        fmt::format("{} (no Spark counterpart: write LIKE)", w == "glob" ? "GLOB" : "SIMILAR TO"),
        s_, t.at);
  }
  if (w == "at" && IsWord(nodes, next, "time")) {
    return Refuse("AT TIME ZONE (time zone conversions have no exact Spark counterpart here)", s_,
                  t.at);
  }
  if (w == "current_time") {
    return Refuse(fmt::format("{} (Spark has no TIME type here)", w), s_, t.at);
  }
  if (w == "isnull" || w == "notnull") {  // postfix forms of IS [NOT] NULL
    units.emplace_back(Role::kKeyword, w == "isnull" ? "IS NULL" : "IS NOT NULL", "is", t.at);
    return i + 1;
  }
  if (kKeywords.count(w)) {
    units.emplace_back(Role::kKeyword, t.text, w, t.at);
    return i + 1;
  }
  if (IsGroup(nodes, next)) {
    std::string call;
    if (w == "cast" || w == "try_cast") {
      DL_ASSIGN_OR_RETURN(call, Cast(nodes[next], w == "try_cast", t.at));
    } else {
      DL_ASSIGN_OR_RETURN(call, Call(w, nodes[next], t.at));
    }
    units.emplace_back(Role::kPrimary, std::move(call), "", t.at);
    units.back().is_text = kTextFunctions.count(w) > 0;
    return next + 1;
  }
  // A type name before a string: DuckDB's typed literal, a cast of the string.
  size_t k = i;
  DL_ASSIGN_OR_RETURN(auto type, TypeAt(nodes, k));
  const size_t literal = NextSolid(nodes, k);
  if (literal < nodes.size() && nodes[literal].token &&
      nodes[literal].token->kind == Kind::kString) {
    if (!type) return Refuse(fmt::format("a string typed as {}", t.text), s_, t.at);
    DL_ASSIGN_OR_RETURN(auto cast, fragment::SparkCast(SparkLiteral(nodes[literal].token->text),
                                                       *type, false, true, s_, t.at));
    units.emplace_back(Role::kPrimary, std::move(cast), "", t.at);
    return literal + 1;
  }
  units.emplace_back(Role::kPrimary, IsSparkWord(t.text) ? t.text : SparkIdent(t.text), "", t.at);
  return i + 1;
}

Result<size_t> Compiler::Operator(const std::vector<Node>& nodes, size_t i,
                                  std::vector<Unit>& units) {
  const Token& t = *nodes[i].token;
  const size_t last = LastSolid(units);
  const bool after_primary = last < units.size() && units[last].role == Role::kPrimary;
  if (t.text == ".") {  // a field of what precedes it: one unit with it
    const size_t f = NextSolid(nodes, i + 1);
    const Token* field = f < nodes.size() ? nodes[f].token : nullptr;
    if (!after_primary || !field || (field->kind != Kind::kWord && field->kind != Kind::kName)) {
      return Refuse("a . that does not name a field", s_, t.at);
    }
    if (IsGroup(nodes, NextSolid(nodes, f + 1))) {
      return Refuse("a function called as x.f() (write f(x))", s_, t.at);
    }
    const bool bare = field->kind == Kind::kWord && IsSparkWord(field->text);
    units[last].text += "." + (bare ? field->text : SparkIdent(field->text));
    units[last].string_value.reset();
    units[last].integer.reset();
    units[last].number = units[last].is_text = false;
    units.erase(units.begin() + static_cast<long>(last) + 1,
                units.end());  // the spaces between are dropped
    return f + 1;
  }
  if (t.text == "::") {
    size_t k = NextSolid(nodes, i + 1);
    DL_ASSIGN_OR_RETURN(auto type, TypeAt(nodes, k));
    if (!type) return Refuse("a :: without a type DuckDB and Spark share", s_, t.at);
    size_t before = last;
    while (before > 0 && before < units.size() && units[before - 1].role == Role::kSpace) --before;
    const bool after_is = before > 0 && before < units.size() &&
                          units[before - 1].role == Role::kKeyword &&
                          (units[before - 1].key == "is" || units[before - 1].key == "not");
    if (!after_primary || after_is) {
      return Refuse("a :: whose operand is not a value (write CAST(... AS ...))", s_, t.at);
    }
    DL_ASSIGN_OR_RETURN(auto cast,
                        fragment::SparkCast(units[last].text, *type, false,
                                            units[last].string_value.has_value(), s_, t.at));
    units.erase(units.begin() + static_cast<long>(last) + 1, units.end());
    units[last] = Unit(Role::kPrimary, std::move(cast), "", units[last].at);
    units[last].is_text = type->words == "varchar" || type->words == "text" ||
                          type->words == "string" || type->words == "char";
    return k;
  }
  if (auto refused = kRefusedOps.find(t.text); refused != kRefusedOps.end()) {
    return Refuse(refused->second, s_, t.at);
  }
  if (!kKeptOps.count(t.text)) {
    return Refuse(fmt::format("the operator {} (no Spark counterpart)", t.text), s_, t.at);
  }
  units.emplace_back(Role::kOp, t.text, t.text, t.at);
  return i + 1;
}

// The type after AS or :: (i at its first word; moved past it): nullopt when no word is there.
Result<std::optional<fragment::TypeName>> Compiler::TypeAt(const std::vector<Node>& nodes,
                                                           size_t& i) {
  if (i >= nodes.size() || !nodes[i].token || nodes[i].token->kind != Kind::kWord) {
    return std::optional<fragment::TypeName>();
  }
  fragment::TypeName type{AsciiLower(nodes[i].token->text), {}};
  size_t k = i + 1;
  auto word_at = [&](size_t at, std::string_view w) {
    return IsWord(nodes, NextSolid(nodes, at), w);
  };
  if ((type.words == "timestamp" || type.words == "time") && word_at(k, "with")) {
    size_t j = NextSolid(nodes, k) + 1;
    if (!word_at(j, "time")) return Refuse("a type WITH what", s_, nodes[i].at);
    j = NextSolid(nodes, j) + 1;
    if (!word_at(j, "zone")) return Refuse("a type WITH TIME what", s_, nodes[i].at);
    type.words += " with time zone";
    k = NextSolid(nodes, j) + 1;
  } else if (type.words == "double" && word_at(k, "precision")) {
    type.words += " precision";
    k = NextSolid(nodes, k) + 1;
  }
  const size_t g = NextSolid(nodes, k);
  if (IsGroup(nodes, g)) {
    for (const Node& p : nodes[g].inner) {
      if (!p.token || p.token->kind == Kind::kSpace || p.token->text == ",") continue;
      if (p.token->kind != Kind::kNumber ||
          p.token->text.find_first_not_of("0123456789") != std::string::npos) {
        return Refuse("a type parameter that is not a whole number", s_, p.at);
      }
      type.params.push_back(std::stoll(p.token->text));
    }
    k = g + 1;
  }
  i = k;
  return std::optional<fragment::TypeName>(std::move(type));
}

// The arguments of a call split at the commas of its own level.
std::vector<std::vector<Node>> SplitArgs(const std::vector<Node>& inner) {
  std::vector<std::vector<Node>> args(1);
  for (const Node& n : inner) {
    if (n.token && n.token->kind == Kind::kOp && n.token->text == ",") {
      args.emplace_back();
    } else {
      args.back().push_back(n);
    }
  }
  if (args.size() == 1 && args[0].empty()) args.clear();
  return args;
}

// Where a keyword of the call's own syntax (FROM, FOR, IN, BOTH, ...) is: nodes.size() if
// none.
size_t KeywordAt(const std::vector<Node>& nodes, std::string_view word) {
  for (size_t k = 0; k < nodes.size(); ++k) {
    if (nodes[k].token && nodes[k].token->kind == Kind::kWord &&
        AsciiLower(nodes[k].token->text) == word) {
      return k;
    }
  }
  return nodes.size();
}

Result<Arg> Compiler::ArgOf(const std::vector<Node>& nodes, size_t at) {
  DL_ASSIGN_OR_RETURN(auto units, Units(nodes));
  DL_RETURN_IF_ERROR(Level(units));
  Arg arg{Stripped(Join(units, 0, units.size())), {}, {}, at};
  std::vector<const Unit*> solid;
  for (const Unit& u : units) {
    if (u.role != Role::kSpace) solid.push_back(&u);
  }
  if (solid.empty()) return Refuse("an empty argument", s_, at);
  arg.at = solid[0]->at;
  if (solid.size() == 1) {
    arg.integer = solid[0]->integer;
    arg.text = solid[0]->string_value;
  } else if (solid.size() == 2 && Is(*solid[0], Role::kOp, "-") && solid[1]->integer) {
    arg.integer = -*solid[1]->integer;
  }
  return arg;
}

Result<std::string> Compiler::Call(const std::string& name, const Node& group, size_t at) {
  auto args_nodes = SplitArgs(group.inner);
  const auto& first = args_nodes.empty() ? std::vector<Node>() : args_nodes[0];
  std::vector<Arg> args;
  if (name == "extract" || name == "position") {  // extract(part FROM x), position(a IN b)
    const std::string_view word = name == "extract" ? "from" : "in";
    const size_t k = KeywordAt(first, word);
    if (args_nodes.size() != 1 || k == first.size()) {
      return Refuse(fmt::format("{}(...) without {}", name, word), s_, at);
    }
    DL_ASSIGN_OR_RETURN(auto a, ArgOf(Slice(first, 0, k), at));
    DL_ASSIGN_OR_RETURN(auto b, ArgOf(Slice(first, k + 1, first.size()), at));
    if (name == "position") return fmt::format("position({} IN {})", a.spark, b.spark);
    const size_t p = NextSolid(first, 0);
    if (p < k && first[p].token && first[p].token->kind == Kind::kWord) {
      a.text = AsciiLower(first[p].token->text);  // extract(year FROM x): the part as a word
    }
    return fragment::SparkCall("date_part", {a, b}, s_, at);
  }
  if (name == "trim" || name == "ltrim" || name == "rtrim") {
    if (args_nodes.size() == 1 && KeywordAt(first, "from") < first.size()) {
      return TrimFrom(first, at);
    }
  }
  if ((name == "substring" || name == "substr") && args_nodes.size() == 1 &&
      (KeywordAt(first, "from") < first.size() || KeywordAt(first, "for") < first.size())) {
    // substring(x FROM a FOR b) is substring(x, a, b)
    const size_t from = KeywordAt(first, "from");
    const size_t for_ = KeywordAt(first, "for");
    const size_t x_end = std::min(from, for_);
    DL_ASSIGN_OR_RETURN(auto x, ArgOf(Slice(first, 0, x_end), at));
    args.push_back(std::move(x));
    if (from < first.size()) {
      const size_t a_end = for_ > from ? for_ : first.size();
      DL_ASSIGN_OR_RETURN(auto a, ArgOf(Slice(first, from + 1, a_end), at));
      args.push_back(std::move(a));
    } else {
      args.push_back({"1", 1, {}, at});
    }
    if (for_ < first.size()) {
      DL_ASSIGN_OR_RETURN(auto b, ArgOf(Slice(first, for_ + 1, first.size()), at));
      args.push_back(std::move(b));
    }
    return fragment::SparkCall(name, args, s_, at);
  }
  for (const auto& nodes : args_nodes) {
    DL_ASSIGN_OR_RETURN(auto arg, ArgOf(nodes, at));
    args.push_back(std::move(arg));
  }
  return fragment::SparkCall(name, args, s_, at);
}

// trim([BOTH | LEADING | TRAILING] [chars] FROM x): Spark's syntax too.
Result<std::string> Compiler::TrimFrom(const std::vector<Node>& nodes, size_t at) {
  const size_t from = KeywordAt(nodes, "from");
  size_t k = NextSolid(nodes, 0);
  std::string mode = "BOTH";
  for (const char* m : {"both", "leading", "trailing"}) {
    if (IsWord(nodes, k, m)) {
      mode = m == std::string_view("both")
                 ? "BOTH"
                 : (m == std::string_view("leading") ? "LEADING" : "TRAILING");
      ++k;
    }
  }
  std::string chars = fragment::SpaceSeparators();
  if (NextSolid(nodes, k) < from) {
    DL_ASSIGN_OR_RETURN(auto c, ArgOf(Slice(nodes, k, from), at));
    chars = c.spark;
  }
  DL_ASSIGN_OR_RETURN(auto x, ArgOf(Slice(nodes, from + 1, nodes.size()), at));
  return fmt::format("trim({} {} FROM {})", mode, chars, x.spark);
}

Result<std::string> Compiler::Cast(const Node& group, bool try_cast, size_t at) {
  const auto& inner = group.inner;
  size_t as = inner.size();
  for (size_t k = 0; k < inner.size(); ++k) {
    if (IsWord(inner, k, "as")) as = k;
  }
  if (as == inner.size()) return Refuse("a CAST without AS", s_, at);
  DL_ASSIGN_OR_RETURN(auto operand, ArgOf(Slice(inner, 0, as), at));
  size_t k = NextSolid(inner, as + 1);
  DL_ASSIGN_OR_RETURN(auto type, TypeAt(inner, k));
  if (!type || NextSolid(inner, k) != inner.size()) {
    return Refuse("a CAST to a type DuckDB and Spark do not share", s_, at);
  }
  return fragment::SparkCast(operand.spark, *type, try_cast, operand.text.has_value(), s_, at);
}

}  // namespace

Result<std::string> SparkFragment(std::string_view fragment) {
  DL_ASSIGN_OR_RETURN(auto tokens, fragment::Lex(fragment));
  size_t i = 0;
  DL_ASSIGN_OR_RETURN(auto nodes, Group(tokens, i, fragment, false));
  Compiler compiler(fragment);
  DL_ASSIGN_OR_RETURN(auto spark, compiler.Sequence(nodes));
  if (spark.size() > kMaxSparkBytes) {
    return Status::InvalidArgument(
        "an expression whose Spark SQL is {} bytes long (casts repeat their operand; at most {} "
        "are allowed)",
        spark.size(), kMaxSparkBytes);
  }
  return spark;
}

}  // namespace dl::engine::spark
