// DuckDB's lexer (third_party/libpg_query/scan.l of DuckDB 1.4, with
// standard_conforming_strings on) for every token a fragment may hold; the tokens it does
// not know are refused, never passed through.
#include <fmt/format.h>

#include "dl/engine/spark/spark_fragment_parts.hpp"

namespace dl::engine::spark::fragment {
namespace {

// scan.l's op_chars: the characters of its {operator} rule.
constexpr std::string_view kOpChars = "~!@^&|`+-*/%<>=";

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
bool IsTagChar(char c) { return IsWordStart(c) || IsDigit(c); }
bool IsOpChar(char c) { return c != '\0' && kOpChars.find(c) != std::string_view::npos; }

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

// The operator at i, cut as scan.l cuts it: the longest run of op_chars, ended before a
// comment start, without trailing + and - unless it holds one of ~!@^&|`%.
std::string_view OperatorAt(std::string_view s, size_t i) {
  size_t end = i;
  while (IsOpChar(At(s, end))) ++end;
  std::string_view op = s.substr(i, end - i);
  for (const char* comment : {"/*", "--"}) {
    const size_t c = op.find(comment);
    if (c != std::string_view::npos && c > 0) op = op.substr(0, c);
  }
  while (op.size() > 1 && (op.back() == '+' || op.back() == '-') &&
         op.substr(0, op.size() - 1).find_first_of("~!@^&|`%") == std::string_view::npos) {
    op.remove_suffix(1);
  }
  return op;
}

// Punctuation and operators; what Spark makes of each is the compiler's concern.
Result<size_t> LexSymbol(std::string_view s, size_t i, std::vector<Token>& out) {
  const char c = s[i];
  const char next = At(s, i + 1);
  if (c == ':' || c == ';') {
    if (c == ':' && next == ':') {
      out.push_back({Kind::kOp, "::", i});
      return i + 2;
    }
    return Refuse(c == ';' ? "a ; (one expression only)"
                           : "a : (slices and named arguments are not compiled for Spark)",
                  s, i);
  }
  if (c == '[' || c == ']') {
    return Refuse("a list or subscript [...] (lists are not compiled for Spark)", s, i);
  }
  if (c == '{' || c == '}') {
    return Refuse("a struct literal {...} (structs are not compiled for Spark)", s, i);
  }
  if (c == ',' || c == '(' || c == ')' || c == '.') {
    out.push_back({Kind::kOp, std::string(1, c), i});
    return i + 1;
  }
  const std::string_view op = OperatorAt(s, i);
  if (op.find('`') != std::string_view::npos) {
    return Refuse("the character ` outside a string", s, i + op.find('`'));
  }
  out.push_back({Kind::kOp, std::string(op), i});
  return i + op.size();
}

}  // namespace

bool IsWordChar(char c) { return IsWordStart(c) || IsDigit(c) || c == '$'; }

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string AsciiUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

Status Refuse(std::string_view what, std::string_view s, size_t at) {
  std::string_view rest = s.substr(std::min(at, s.size()));
  return Status::InvalidArgument("{} at '{}{}'", what, rest.substr(0, 30),
                                 rest.size() > 30 ? "..." : "");
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
    } else if (c != '\0' &&
               std::string_view(",()[]{}.;:~!@^&|+-*/%<>=").find(c) != std::string_view::npos) {
      DL_ASSIGN_OR_RETURN(i, LexSymbol(s, i, out));
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

}  // namespace dl::engine::spark::fragment
