// GlobMatcher: shell-style path patterns (*, ?, **, [...], \ escapes), compiled once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dl/common/status.hpp"

namespace dl::discovery {

/// A compiled glob over '/'-separated paths.
///
/// Syntax:
///  - `*` any run of characters within one path segment (never crosses '/').
///  - `?` exactly one character (one UTF-8 code point), not '/'.
///  - `**` as a whole segment: any number of directories, including zero (`a/**/b` matches
///    `a/b` and `a/x/y/b`; a trailing `a/**` matches everything below `a`, and `a` itself).
///    `**` inside a longer segment (`x**y`) behaves like `*`.
///  - `[abc]`, `[a-z0-9]`, negated `[!a-c]` or `[^a-c]`; a `]` right after `[`, `[!` or `[^`
///    is literal, as is a `-` first or last. Classes never match '/'.
///  - `\c` matches c literally (also inside classes). A trailing lone `\` is an error.
/// Repeated slashes are treated as one and a trailing slash is ignored, in patterns and paths.
/// A leading `*` or `?` does match a leading '.' here; hiding dot/underscore files is the
/// walker's job (see Step()).
class GlobMatcher {
 public:
  /// Set of positions in the segment list; the walker's state while descending directories.
  using States = std::vector<uint32_t>;

  /// Compile a pattern; InvalidArgument for an unterminated '[' or a trailing '\'.
  static Result<GlobMatcher> Compile(std::string_view pattern);

  /// True if the whole path matches the whole pattern.
  bool Match(std::string_view path) const;

  const std::string& pattern() const { return pattern_; }

  // Incremental matching, one path segment at a time, for directory walkers.
  /// The state before any segment has been consumed.
  States Start() const;
  /// Consume one segment (a file or directory name). With skip_hidden, a name starting with
  /// '.' or '_' is only matched by a pattern segment that starts with that same literal
  /// character (so `**` and `*` never descend into `_delta_log` or `.git`).
  States Step(const States& states, std::string_view name, bool skip_hidden) const;
  /// True if the segments consumed so far form a complete match.
  bool Accepts(const States& states) const;
  /// True if some longer path (more segments) could still match: worth descending into.
  bool CanContinue(const States& states) const;

 private:
  struct ClassRange {
    uint32_t lo, hi;
  };
  struct Token {
    enum class Kind : uint8_t { kLiteral, kAnyChar, kStar, kClass } kind;
    std::string literal;             // kLiteral: a run of literal bytes
    bool negated = false;            // kClass
    std::vector<ClassRange> ranges;  // kClass: code point ranges
  };
  struct Segment {
    bool globstar = false;    // the whole segment is `**`
    bool is_literal = false;  // no wildcard: compare `literal` directly (fast path)
    std::string literal;
    std::vector<Token> tokens;
    char leading_hidden = 0;  // '.' or '_' if the segment starts with that literal character
  };

  static Result<Segment> CompileSegment(std::string_view text, std::string_view pattern);
  static bool MatchSegment(const Segment& seg, std::string_view name);
  static bool MatchTokens(const std::vector<Token>& tokens, std::string_view s);
  void Close(States& states) const;  // add the positions reachable through `**` (zero dirs)

  std::string pattern_;
  std::vector<Segment> segments_;
};

/// A pattern split into the directory to walk and the glob to apply below it.
struct GlobSplit {
  std::string base_dir;  ///< unescaped literal directory prefix ("" = current dir, "/" = root)
  std::string rest;      ///< the remaining pattern (escapes kept), relative to base_dir
};

/// Split at the longest prefix of whole segments without wildcards, keeping at least the last
/// segment in `rest` ("/mnt/raw/*/x*.csv" -> {"/mnt/raw", "*/x*.csv"}).
GlobSplit SplitLiteralPrefix(std::string_view pattern);

/// True if the pattern has an unescaped `*`, `?` or `[`.
bool HasWildcards(std::string_view pattern);

/// Remove backslash escapes ("a\*b" -> "a*b").
std::string UnescapeGlob(std::string_view pattern);

}  // namespace dl::discovery
