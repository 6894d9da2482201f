// One level of a compiled fragment (between two parentheses, or a call's argument): where
// DuckDB and Spark group its operators otherwise it is refused; the operands of || and the
// sides of LIKE and ILIKE get what makes them mean on Spark what they mean on DuckDB.
#include <fmt/format.h>

#include <set>

#include "dl/engine/spark/spark_fragment_parts.hpp"
#include "dl/engine/spark/spark_plan.hpp"

namespace dl::engine::spark::fragment {
namespace {

// What each level's operators are, for the grouping check.
const std::set<std::string, std::less<>> kComparisons = {
    "=", "==", "<>", "!=", "<", ">", "<=", ">="};
const std::set<std::string, std::less<>> kPredicates = {"like", "ilike", "in", "between"};

// Characters that make one token of two adjacent ones in Spark's lexer: a number and a word
// (1and, 1._5), a prefix and a string (r'...'), two quoted tokens, two operators.
bool Joins(char c) { return IsWordChar(c) || c == '\'' || c == '`'; }
bool IsOpText(std::string_view t) {
  return !t.empty() && t.find_first_not_of("~!@^&|+-*/%<>=") == std::string_view::npos;
}

}  // namespace

bool Is(const Unit& u, Role role, std::string_view key) { return u.role == role && u.key == key; }

std::string Join(const std::vector<Unit>& units, size_t from, size_t to) {
  std::string out;
  const Unit* prev = nullptr;
  for (size_t k = from; k < to; ++k) {
    const Unit& u = units[k];
    if (u.text.empty()) continue;
    if (prev && !out.empty()) {
      const bool joins = Joins(out.back()) && Joins(u.text.front());
      const bool after_number = prev->number && Joins(u.text.front());
      const bool two_ops =
          prev->role == Role::kOp && u.role == Role::kOp && IsOpText(prev->key) && IsOpText(u.key);
      if (joins || after_number || two_ops) out += ' ';
    }
    out += u.text;
    prev = &u;
  }
  return out;
}

namespace {

// Whether the k-th unit ends the operands before it: a comma, OR, AND (but BETWEEN's), WHEN,
// THEN, ELSE, and a NOT that negates what follows (not NOT LIKE, not IS NOT).
bool EndsOperands(const std::vector<const Unit*>& solid, size_t k, bool in_between) {
  const Unit& u = *solid[k];
  if (Is(u, Role::kOp, ",")) return true;
  if (u.role != Role::kKeyword) return false;
  if (u.key == "not") {
    const bool before_predicate = k + 1 < solid.size() && solid[k + 1]->role == Role::kKeyword &&
                                  kPredicates.count(solid[k + 1]->key);
    const bool after_is = k > 0 && Is(*solid[k - 1], Role::kKeyword, "is");
    return !before_predicate && !after_is;
  }
  return u.key == "or" || u.key == "when" || u.key == "then" || u.key == "else" ||
         (u.key == "and" && !in_between);
}

}  // namespace

// Where DuckDB and Spark group a level's operators otherwise, refuse: a comparison beside
// LIKE, IN or BETWEEN (DuckDB binds those tighter, Spark looser); || beside binary + or -
// (DuckDB binds || looser, Spark as tight); &, | and || beside each other (one level on
// DuckDB, three on Spark).
Status CheckGrouping(const std::vector<Unit>& units, std::string_view s) {
  bool comparison = false, predicate = false, concat = false, add = false, band = false,
       bor = false, between = false, is = false;
  const Unit* prev = nullptr;
  std::vector<const Unit*> solid;
  for (const Unit& u : units) {
    if (u.role != Role::kSpace) solid.push_back(&u);
  }
  for (size_t k = 0; k < solid.size(); ++k) {
    const Unit& u = *solid[k];
    const bool boundary = EndsOperands(solid, k, between);
    if (Is(u, Role::kKeyword, "and") && between) between = false;
    if (boundary) {
      comparison = predicate = concat = add = band = bor = is = false;
    } else if (u.role == Role::kOp && kComparisons.count(u.key)) {
      if (is) {
        return Refuse(
            "a comparison after IS without parentheses (Spark cannot read it: write "
            "(x IS NULL) = y)",
            s, u.at);
      }
      comparison = true;
      concat = add = band = bor = false;
    } else if (u.role == Role::kKeyword && (kPredicates.count(u.key) || u.key == "is")) {
      if (u.key != "is") predicate = true;
      is = is || u.key == "is";
      if (is && predicate) {
        return Refuse(
            "LIKE, IN or BETWEEN beside IS without parentheses (Spark cannot read it: "
            "write (x IN (1, 2)) IS NULL)",
            s, u.at);
      }
      between = between || u.key == "between";
      concat = add = band = bor = false;
    } else if (Is(u, Role::kOp, "||")) {
      concat = true;
    } else if ((Is(u, Role::kOp, "+") || Is(u, Role::kOp, "-")) && prev &&
               prev->role == Role::kPrimary) {
      add = true;
    } else if (Is(u, Role::kOp, "&")) {
      band = true;
    } else if (Is(u, Role::kOp, "|")) {
      bor = true;
    }
    if (comparison && predicate) {
      return Refuse(
          "a comparison beside LIKE, IN or BETWEEN without parentheses (Spark groups them "
          "otherwise: write (x LIKE 'a') = true)",
          s, u.at);
    }
    if (concat && (add || band || bor)) {
      return Refuse("|| beside +, -, & or | without parentheses (Spark groups them otherwise)", s,
                    u.at);
    }
    if (band && bor) {
      return Refuse("& beside | without parentheses (Spark groups them otherwise)", s, u.at);
    }
    prev = &u;
  }
  return Status::OK();
}

namespace {

// A run of units that is one literal DuckDB and Spark spell alike as a string: a string,
// or a number without an exponent.
bool KnownText(const std::vector<Unit>& units, size_t from, size_t to) {
  const Unit* only = nullptr;
  for (size_t k = from; k < to; ++k) {
    if (units[k].role == Role::kSpace) continue;
    if (only) return false;
    only = &units[k];
    if (Is(*only, Role::kOp, "-") && k + 1 < to) {  // a negative number
      only = nullptr;
      continue;
    }
  }
  return only &&
         (only->is_text || (only->number && only->text.find_first_of("eE") == std::string::npos));
}

}  // namespace

// DuckDB's / divides as DOUBLEs whatever the operands (1.0 / 3 is 0.3333333333333333);
// Spark's keeps DECIMALs (0.333333). The divisor (the value after /, with its sign) becomes a
// DOUBLE, and Spark divides the dividend as one too.
void DivideAsDoubles(std::vector<Unit>& units) {
  for (size_t k = 0; k < units.size(); ++k) {
    if (!Is(units[k], Role::kOp, "/")) continue;
    size_t first = k + 1;
    while (first < units.size() && units[first].role == Role::kSpace) ++first;
    size_t last = first;
    while (last < units.size() &&
           (units[last].role == Role::kSpace || Is(units[last], Role::kOp, "-") ||
            Is(units[last], Role::kOp, "+"))) {
      ++last;
    }
    if (last >= units.size() || units[last].role != Role::kPrimary) continue;  // Spark fails
    units[first].text = "CAST(" + units[first].text;
    units[last].text += " AS DOUBLE)";
  }
}

// The operands of || become strings as DuckDB's implicit cast spells them (SparkVarchar).
// An operand is the run of values and *, /, % between two operators of a lower level.
void WrapConcatOperands(std::vector<Unit>& units) {
  auto in_operand = [&](size_t k) {
    const Unit& u = units[k];
    if (u.role == Role::kSpace || u.role == Role::kPrimary) return true;
    return u.role == Role::kOp &&
           (u.key == "*" || u.key == "/" || u.key == "%" || u.key == "+" || u.key == "-");
  };
  std::vector<Unit> out;
  size_t k = 0;
  while (k < units.size()) {
    if (!in_operand(k)) {
      out.push_back(units[k++]);
      continue;
    }
    size_t end = k;
    bool concat = false;
    while (end < units.size() && (in_operand(end) || Is(units[end], Role::kOp, "||"))) {
      concat = concat || Is(units[end], Role::kOp, "||");
      ++end;
    }
    if (!concat) {
      for (; k < end; ++k) out.push_back(units[k]);
      continue;
    }
    size_t piece = k;
    for (size_t j = k; j <= end; ++j) {
      if (j < end && !Is(units[j], Role::kOp, "||")) continue;
      size_t from = piece, to = j;  // the piece without the spaces around it, which stay
      while (from < to && units[from].role == Role::kSpace) out.push_back(units[from++]);
      while (to > from && units[to - 1].role == Role::kSpace) --to;
      if (from < to) {
        const std::string text = Join(units, from, to);
        out.emplace_back(Role::kPrimary, KnownText(units, from, to) ? text : SparkVarchar(text), "",
                         units[from].at);
      }
      for (size_t t = to; t < j; ++t) out.push_back(units[t]);
      if (j < end) out.push_back(units[j]);
      piece = j + 1;
    }
    k = end;
  }
  units = std::move(out);
}

namespace {

// Where a LIKE's operand runs to, from `k` by `step` (the units between it and an operator
// of a lower level: DuckDB binds LIKE tighter than comparisons, IS, NOT, AND and OR): the
// first and last unit of it, or npos when it is empty.
std::pair<size_t, size_t> LikeOperand(const std::vector<Unit>& units, size_t k, int step) {
  size_t first = std::string::npos, last = std::string::npos;
  for (size_t j = k; j < units.size(); j += static_cast<size_t>(step)) {
    const Unit& u = units[j];
    if (u.role == Role::kKeyword ||
        (u.role == Role::kOp && (kComparisons.count(u.key) || u.key == ","))) {
      break;
    }
    if (u.role != Role::kSpace) {
      if (first == std::string::npos) first = j;
      last = j;
    }
    if (j == 0 && step < 0) break;
  }
  if (step < 0) std::swap(first, last);
  return {first, last};
}

void Wrap(std::vector<Unit>& units, std::pair<size_t, size_t> range, std::string_view before,
          std::string_view after) {
  units[range.first].text = std::string(before) + units[range.first].text;
  units[range.second].text += after;
}

}  // namespace

// DuckDB's LIKE and ILIKE have no escape character; Spark's escape with a backslash. A
// pattern that is one string has its backslashes doubled; any other gets an escape
// character of its own, doubled inside it (replace(p, '!', '!!') ESCAPE '!'): every
// character of p stays literal but % and _. With ESCAPE, a literal pattern keeps the escape
// only where Spark takes one (LikePatternWithEscape). ILIKE lower-cases both sides, Spark's
// with two full mappings DuckDB's lacks (a final Σ, İ): ILIKE becomes LIKE between sides
// lowered as DuckDB lowers them (lower(translate(x, 'Σİ', 'σi'))).
Status LikePatterns(std::vector<Unit>& units, std::string_view s) {
  constexpr std::string_view kLower = "lower(translate(", kLowered = ", 'Σİ', 'σi'))";
  for (size_t k = 0; k < units.size(); ++k) {
    const bool ilike = Is(units[k], Role::kKeyword, "ilike");
    if (!ilike && !Is(units[k], Role::kKeyword, "like")) continue;
    const auto pattern = LikeOperand(units, k + 1, 1);
    if (pattern.first == std::string::npos) {
      return Refuse("a LIKE without a pattern", s, units[k].at);
    }
    size_t end = pattern.second + 1;
    while (end < units.size() && units[end].role == Role::kSpace) ++end;
    Unit& p = units[pattern.first];
    const bool one_string = pattern.first == pattern.second && p.string_value.has_value();
    std::string escape_suffix;
    if (end < units.size() && Is(units[end], Role::kKeyword, "escape")) {
      size_t e = end + 1;
      while (e < units.size() && units[e].role == Role::kSpace) ++e;
      if (one_string && e < units.size() && units[e].string_value) {
        p.text = SparkLiteral(LikePatternWithEscape(*p.string_value, *units[e].string_value));
      }
    } else if (one_string) {
      std::string doubled;
      for (char c : *p.string_value) {
        doubled += c;
        if (c == '\\') doubled += c;
      }
      p.text = SparkLiteral(doubled);
    } else {
      Wrap(units, pattern, "replace(", ", '!', '!!')");
      escape_suffix = " ESCAPE '!'";
    }
    if (ilike) {
      size_t left_end = k;  // before NOT ILIKE's NOT
      while (left_end > 0 && units[left_end - 1].role == Role::kSpace) --left_end;
      if (left_end > 0 && Is(units[left_end - 1], Role::kKeyword, "not")) --left_end;
      const auto left = left_end > 0 ? LikeOperand(units, left_end - 1, -1)
                                     : std::pair{std::string::npos, std::string::npos};
      if (left.first == std::string::npos) {
        return Refuse("an ILIKE without a left operand", s, units[k].at);
      }
      Wrap(units, left, kLower, kLowered);
      Wrap(units, pattern, kLower, kLowered);
      units[k].text = "LIKE";
    }
    units[pattern.second].text += escape_suffix;
  }
  return Status::OK();
}

std::string LikePatternWithEscape(std::string_view pattern, std::string_view escape) {
  if (escape.size() != 1) return std::string(pattern);
  std::string out;
  for (size_t k = 0; k < pattern.size(); ++k) {
    const char ch = pattern[k];
    if (ch == escape[0] && k + 1 < pattern.size()) {
      const char next = pattern[++k];
      if (next == '%' || next == '_' || next == escape[0]) out += ch;
      out += next;
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace dl::engine::spark::fragment
