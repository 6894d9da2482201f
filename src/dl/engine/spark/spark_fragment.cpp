// The lexer follows DuckDB's (third_party/libpg_query/scan.l of DuckDB 1.4, with
// standard_conforming_strings on) for every token it keeps; the tokens it does not know are
// refused, never passed through. Spark then reads each kept token alone: a space separates
// two that Spark would read as one.
#include "dl/engine/spark/spark_fragment.hpp"

#include <fmt/format.h>

#include <set>
#include <vector>

#include "dl/engine/spark/spark_plan.hpp"

namespace dl::engine::spark {
namespace {

enum class Kind { kSpace, kWord, kNumber, kString, kName, kSymbol };

struct Token {
  Kind kind;
  std::string text;           ///< kString, kName: the value; the others: the text Spark gets
  size_t at = 0;              ///< where it starts in the fragment
  bool like_pattern = false;  ///< kString: the whole pattern of a LIKE without ESCAPE
};

// Single characters DuckDB lexes as operators and punctuation. Spark reads them as the same
// characters; what an operator does is the allowlist's concern (engine/expression_check).
constexpr std::string_view kSymbols = ",()[].;:+-*/%^<>=~!@&|{}";

char At(std::string_view s, size_t i) { return i < s.size() ? s[i] : '\0'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool IsNewline(char c) { return c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// DuckDB's identifiers: a letter, _ or any byte of a non-ASCII character, then also digits
// and $. Dollar-quote tags take the same characters but $.
bool IsWordStart(char c) {
  return IsAsciiLetter(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
bool IsWordChar(char c) { return IsWordStart(c) || IsDigit(c) || c == '$'; }
bool IsTagChar(char c) { return IsWordStart(c) || IsDigit(c); }
// A bare name Spark reads as the same name (its keywords and functions are all such words).
bool IsSparkWord(std::string_view w) {
  for (char c : w) {
    if (!IsAsciiLetter(c) && !IsDigit(c) && c != '_') return false;
  }
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Status Refuse(std::string_view what, std::string_view s, size_t at) {
  std::string_view rest = s.substr(at);
  return Status::InvalidArgument("{} at '{}{}'", what, rest.substr(0, 30),
                                 rest.size() > 30 ? "..." : "");
}

// A number: digits with single _ between them, a decimal point (not "..") and an exponent
// when digits follow it. Returns where it ends.
size_t NumberEnd(std::string_view s, size_t i) {
  auto digits = [&](size_t j) {  // a digit, then digits with single _ between them
    if (!IsDigit(At(s, j))) return j;
    for (++j; IsDigit(At(s, j)) || (At(s, j) == '_' && IsDigit(At(s, j + 1)));) {
      j += At(s, j) == '_' ? 2 : 1;
    }
    return j;
  };
  i = digits(i);
  if (At(s, i) == '.' && At(s, i + 1) != '.') i = digits(i + 1);
  if (At(s, i) == 'e' || At(s, i) == 'E') {
    size_t j = i + 1;
    if (At(s, j) == '+' || At(s, j) == '-') ++j;
    if (IsDigit(At(s, j))) i = digits(j);
  }
  return i;
}

// A standard string from its opening quote: '' is a quote and a backslash itself; the string
// goes on past its closing quote when whitespace and -- comments holding a newline lead to
// another opening quote.
Result<std::string> QuotedString(std::string_view s, size_t& i) {
  const size_t start = i++;
  std::string value;
  while (true) {
    if (i >= s.size()) return Refuse("an unterminated '...' string", s, start);
    if (s[i] != '\'') {
      value += s[i++];
    } else if (At(s, i + 1) == '\'') {
      value += '\'';
      i += 2;
    } else {
      size_t j = i + 1;
      bool newline = false;
      while (j < s.size()) {
        if (IsSpace(s[j])) {
          newline = newline || IsNewline(s[j]);
          ++j;
        } else if (s.substr(j, 2) == "--") {
          while (j < s.size() && !IsNewline(s[j])) ++j;
        } else {
          break;
        }
      }
      if (!newline || At(s, j) != '\'') {
        ++i;
        return value;
      }
      i = j + 1;
    }
  }
}

// A quoted name from its opening quote: "" is a quote.
Result<std::string> QuotedName(std::string_view s, size_t& i) {
  const size_t start = i++;
  std::string name;
  while (true) {
    if (i >= s.size()) return Refuse("an unterminated \"...\" name", s, start);
    if (s[i] == '"' && At(s, i + 1) == '"') {
      name += '"';
      i += 2;
    } else if (s[i] == '"') {
      ++i;
      break;
    } else {
      name += s[i++];
    }
  }
  if (name.empty()) return Refuse("an empty \"\" name", s, start);
  return name;
}

// $tag$...$tag$ (the tag may be empty): the text up to the first same delimiter, as it is.
Result<std::string> DollarString(std::string_view s, size_t& i) {
  const size_t start = i;
  size_t j = i + 1;
  if (IsWordStart(At(s, j))) {
    while (IsTagChar(At(s, j))) ++j;
  }
  if (At(s, j) != '$') return Refuse("a $ outside a string (a parameter)", s, start);
  const std::string_view delimiter = s.substr(start, j + 1 - start);
  const size_t end = s.find(delimiter, j + 1);
  if (end == std::string_view::npos) return Refuse("an unterminated $...$ string", s, start);
  i = end + delimiter.size();
  return std::string(s.substr(j + 1, end - j - 1));
}

// A comment from its start, nested /* */ included: where it ends.
Result<size_t> CommentEnd(std::string_view s, size_t i) {
  if (s.substr(i, 2) == "--") {
    while (i < s.size() && !IsNewline(s[i])) ++i;
    return i;
  }
  const size_t start = i;
  int depth = 0;
  for (i += 2; i < s.size(); ++i) {
    if (s.substr(i, 2) == "/*") {
      ++depth;
      ++i;
    } else if (s.substr(i, 2) == "*/") {
      if (depth-- == 0) return i + 2;
      ++i;
    }
  }
  return Refuse("an unterminated /* comment", s, start);
}

Result<std::vector<Token>> Lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const size_t start = i;
    const char c = s[i];
    const char next = At(s, i + 1);
    if (IsSpace(c)) {
      out.push_back({Kind::kSpace, c == '\f' ? " " : std::string(1, c), start});
      ++i;
    } else if ((c == '-' && next == '-') || (c == '/' && next == '*')) {
      DL_ASSIGN_OR_RETURN(i, CommentEnd(s, i));
      out.push_back({Kind::kSpace, " ", start});
    } else if (next == '\'' && std::string_view("bBeEnNxX").find(c) != std::string_view::npos) {
      const char letter = static_cast<char>(c & ~0x20);
      return Refuse(fmt::format("{} {}'...' string", letter == 'B' ? "a" : "an", letter), s, i);
    } else if ((c == 'u' || c == 'U') && next == '&' &&
               (At(s, i + 2) == '\'' || At(s, i + 2) == '"')) {
      return Refuse("a U&'...' string or U&\"...\" name", s, i);
    } else if (IsWordStart(c)) {
      while (i < s.size() && IsWordChar(s[i])) ++i;
      out.push_back({Kind::kWord, std::string(s.substr(start, i - start)), start});
    } else if (IsDigit(c) || (c == '.' && IsDigit(next))) {
      i = NumberEnd(s, i);
      std::string digits;
      for (char d : s.substr(start, i - start)) {
        if (d != '_') digits += d;
      }
      out.push_back({Kind::kNumber, std::move(digits), start});
    } else if (c == '\'') {
      DL_ASSIGN_OR_RETURN(auto value, QuotedString(s, i));
      out.push_back({Kind::kString, std::move(value), start});
    } else if (c == '$') {
      DL_ASSIGN_OR_RETURN(auto value, DollarString(s, i));
      out.push_back({Kind::kString, std::move(value), start});
    } else if (c == '"') {
      DL_ASSIGN_OR_RETURN(auto name, QuotedName(s, i));
      out.push_back({Kind::kName, std::move(name), start});
    } else if (c != '\0' && kSymbols.find(c) != std::string_view::npos) {
      out.push_back({Kind::kSymbol, std::string(1, c), start});
      ++i;
    } else {
      const bool printable = c > ' ' && c < 0x7f;
      return Refuse(printable ? fmt::format("the character {} outside a string", c)
                              : fmt::format("the byte 0x{:02x} outside a string",
                                            static_cast<unsigned char>(c)),
                    s, i);
    }
  }
  return out;
}

// DuckDB's LIKE and ILIKE have no escape character; Spark's escape with a backslash. A
// pattern that is one string has its backslashes doubled; it is one string when the token
// after it ends the pattern (DuckDB binds LIKE tighter than AND and OR). Any other pattern
// cannot be delimited by tokens alone: a backslash in a string after its LIKE is refused.
Status MarkLikePatterns(std::vector<Token>& tokens, std::string_view s) {
  std::vector<Token*> t;  // without the spaces
  for (auto& token : tokens) {
    if (token.kind != Kind::kSpace) t.push_back(&token);
  }
  auto word = [&](size_t n) {
    return n < t.size() && t[n]->kind == Kind::kWord ? Lower(t[n]->text) : std::string();
  };
  auto ends_pattern = [&](size_t n) {
    static const std::set<std::string, std::less<>> kEnds = {"and",  "or",  "then",  "else",
                                                             "when", "end", "escape"};
    if (n >= t.size()) return true;
    const std::string& x = t[n]->text;
    if (t[n]->kind == Kind::kSymbol) return x == ")" || x == "," || x == "]";
    return t[n]->kind == Kind::kWord && kEnds.count(Lower(x)) > 0;
  };
  for (size_t n = 0; n < t.size(); ++n) {
    const std::string w = word(n);
    const bool field = n > 0 && t[n - 1]->kind == Kind::kSymbol && t[n - 1]->text == ".";
    if ((w != "like" && w != "ilike") || field) continue;
    if (n + 1 < t.size() && t[n + 1]->kind == Kind::kString && ends_pattern(n + 2)) {
      t[n + 1]->like_pattern = word(n + 2) != "escape";
      continue;
    }
    for (size_t m = n + 1; m < t.size(); ++m) {
      if (t[m]->kind == Kind::kString && t[m]->text.find('\\') != std::string::npos) {
        const char* op = w == "like" ? "LIKE" : "ILIKE";
        return Refuse(fmt::format("a backslash in a string after a {} whose pattern is not one "
                                  "string (DuckDB's {} has no escape character, Spark's "
                                  "escapes with a backslash)",
                                  op, op),
                      s, t[m]->at);
      }
    }
  }
  return Status::OK();
}

// Characters that make one token of two adjacent ones in Spark's lexer: a number and a word
// (1and, 1._5), a prefix and a string (r'...'), two quoted tokens.
bool Joins(char c) { return IsWordChar(c) || c == '\'' || c == '`'; }

std::string Render(const std::vector<Token>& tokens) {
  std::string out;
  bool after_number = false;
  for (const Token& t : tokens) {
    std::string piece;
    if (t.kind == Kind::kString && t.like_pattern) {
      std::string pattern;
      for (char c : t.text) {
        pattern += c;
        if (c == '\\') pattern += c;
      }
      piece = SparkLiteral(pattern);
    } else if (t.kind == Kind::kString) {
      piece = SparkLiteral(t.text);
    } else if (t.kind == Kind::kName || (t.kind == Kind::kWord && !IsSparkWord(t.text))) {
      piece = SparkIdent(t.text);
    } else {
      piece = t.text;
    }
    if ((after_number || (!out.empty() && Joins(out.back()))) && Joins(piece.front())) out += ' ';
    out += piece;
    after_number = t.kind == Kind::kNumber;
  }
  return out;
}

}  // namespace

Result<std::string> SparkFragment(std::string_view fragment) {
  DL_ASSIGN_OR_RETURN(auto tokens, Lex(fragment));
  DL_RETURN_IF_ERROR(MarkLikePatterns(tokens, fragment));
  return Render(tokens);
}

}  // namespace dl::engine::spark
