// GlobMatcher: compile a pattern into per-segment token lists; match segment by segment.
#include "dl/discovery/glob.hpp"

#include <algorithm>

namespace dl::discovery {
namespace {

bool IsWildcard(char c) { return c == '*' || c == '?' || c == '['; }

// Split on '/', honouring backslash escapes, dropping empty segments except a leading one
// (which marks an absolute path). "a//b/" -> {"a","b"}; "/a" -> {"","a"}.
std::vector<std::string_view> SplitSegments(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i + 1 < text.size() && text[i] == '\\') {
      ++i;  // the escaped character never splits
      continue;
    }
    if (i == text.size() || text[i] == '/') {
      std::string_view seg = text.substr(start, i - start);
      if (!seg.empty() || (start == 0 && i < text.size())) out.push_back(seg);
      start = i + 1;
    }
  }
  return out;
}

// True if the text ends in a backslash that is not itself escaped.
bool HasTrailingEscape(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\') {
      if (i + 1 == text.size()) return true;
      ++i;
    }
  }
  return false;
}

bool SegmentHasWildcards(std::string_view seg) {
  for (size_t i = 0; i < seg.size(); ++i) {
    if (seg[i] == '\\') {
      ++i;
    } else if (IsWildcard(seg[i])) {
      return true;
    }
  }
  return false;
}

// Decode one UTF-8 code point at pos and advance pos; an invalid byte counts as one point.
uint32_t DecodeUtf8(std::string_view s, size_t& pos) {
  auto b0 = static_cast<unsigned char>(s[pos]);
  int len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
  if (len <= 1 || pos + len > s.size()) {
    ++pos;
    return b0;
  }
  uint32_t cp = b0 & (0xFF >> (len + 1));
  for (int k = 1; k < len; ++k) {
    auto b = static_cast<unsigned char>(s[pos + k]);
    if ((b >> 6) != 0x2) {  // not a continuation byte: treat the lead byte alone
      ++pos;
      return b0;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  pos += len;
  return cp;
}

}  // namespace

Result<GlobMatcher::Segment> GlobMatcher::CompileSegment(std::string_view text,
                                                         std::string_view pattern) {
  Segment seg;
  if (text == "**") {
    seg.globstar = true;
    return seg;
  }
  if (!SegmentHasWildcards(text)) {
    if (HasTrailingEscape(text))
      return Status::InvalidArgument("glob '{}': trailing '\\' escapes nothing", pattern);
    seg.is_literal = true;
    seg.literal = UnescapeGlob(text);
    if (!seg.literal.empty() && (seg.literal[0] == '.' || seg.literal[0] == '_'))
      seg.leading_hidden = seg.literal[0];
    return seg;
  }
  auto literal_token = [&]() -> std::string& {
    if (seg.tokens.empty() || seg.tokens.back().kind != Token::Kind::kLiteral)
      seg.tokens.push_back(Token{Token::Kind::kLiteral, {}, false, {}});
    return seg.tokens.back().literal;
  };
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '\\') {
      if (i + 1 >= text.size())
        return Status::InvalidArgument("glob '{}': trailing '\\' escapes nothing", pattern);
      literal_token().push_back(text[i + 1]);
      i += 2;
    } else if (c == '*') {
      // Consecutive stars are one star.
      if (seg.tokens.empty() || seg.tokens.back().kind != Token::Kind::kStar)
        seg.tokens.push_back(Token{Token::Kind::kStar, {}, false, {}});
      ++i;
    } else if (c == '?') {
      seg.tokens.push_back(Token{Token::Kind::kAnyChar, {}, false, {}});
      ++i;
    } else if (c == '[') {
      Token tok{Token::Kind::kClass, {}, false, {}};
      size_t j = i + 1;
      if (j < text.size() && (text[j] == '!' || text[j] == '^')) {
        tok.negated = true;
        ++j;
      }
      bool closed = false;
      bool first = true;
      while (j < text.size()) {
        if (text[j] == ']' && !first) {
          closed = true;
          ++j;
          break;
        }
        first = false;
        if (text[j] == '\\' && j + 1 < text.size()) ++j;
        uint32_t lo = DecodeUtf8(text, j);
        uint32_t hi = lo;
        if (j + 1 < text.size() && text[j] == '-' && text[j + 1] != ']') {
          ++j;
          if (text[j] == '\\' && j + 1 < text.size()) ++j;
          hi = DecodeUtf8(text, j);
        }
        if (hi < lo) std::swap(lo, hi);
        tok.ranges.push_back({lo, hi});
      }
      if (!closed) return Status::InvalidArgument("glob '{}': unterminated '['", pattern);
      seg.tokens.push_back(std::move(tok));
      i = j;
    } else {
      literal_token().push_back(c);
      ++i;
    }
  }
  const Token& t0 = seg.tokens.front();
  if (t0.kind == Token::Kind::kLiteral && (t0.literal[0] == '.' || t0.literal[0] == '_'))
    seg.leading_hidden = t0.literal[0];
  return seg;
}

Result<GlobMatcher> GlobMatcher::Compile(std::string_view pattern) {
  GlobMatcher m;
  m.pattern_ = std::string(pattern);
  auto parts = SplitSegments(pattern);
  if (parts.empty()) return Status::InvalidArgument("empty glob pattern");
  for (std::string_view part : parts) {
    DL_ASSIGN_OR_RETURN(Segment seg, CompileSegment(part, pattern));
    // `**/**` is the same as `**`; collapsing keeps the state sets small.
    if (seg.globstar && !m.segments_.empty() && m.segments_.back().globstar) continue;
    m.segments_.push_back(std::move(seg));
  }
  return m;
}

bool GlobMatcher::MatchTokens(const std::vector<Token>& tokens, std::string_view s) {
  // Classic single-backtrack wildcard matching: every non-star token matches a deterministic
  // amount of text at a given position, so only the last star's start needs revisiting.
  const size_t n = tokens.size();
  size_t ti = 0, si = 0;
  size_t star_ti = SIZE_MAX, star_si = 0;
  while (si < s.size()) {
    if (ti < n) {
      const Token& tok = tokens[ti];
      if (tok.kind == Token::Kind::kStar) {
        star_ti = ti++;
        star_si = si;
        continue;
      }
      if (tok.kind == Token::Kind::kLiteral) {
        if (s.compare(si, tok.literal.size(), tok.literal) == 0) {
          si += tok.literal.size();
          ++ti;
          continue;
        }
      } else {
        size_t next = si;
        uint32_t cp = DecodeUtf8(s, next);
        bool ok = true;
        if (tok.kind == Token::Kind::kClass) {
          bool in = std::any_of(tok.ranges.begin(), tok.ranges.end(),
                                [cp](const ClassRange& r) { return cp >= r.lo && cp <= r.hi; });
          ok = in != tok.negated;
        }
        if (ok) {
          si = next;
          ++ti;
          continue;
        }
      }
    }
    if (star_ti == SIZE_MAX) return false;
    ti = star_ti + 1;
    DecodeUtf8(s, star_si);  // let the star swallow one more code point
    si = star_si;
  }
  while (ti < n && tokens[ti].kind == Token::Kind::kStar) ++ti;
  return ti == n;
}

bool GlobMatcher::MatchSegment(const Segment& seg, std::string_view name) {
  if (seg.is_literal) return seg.literal == name;
  return MatchTokens(seg.tokens, name);
}

void GlobMatcher::Close(States& states) const {
  for (size_t k = 0; k < states.size(); ++k) {
    uint32_t i = states[k];
    if (i < segments_.size() && segments_[i].globstar &&
        std::find(states.begin(), states.end(), i + 1) == states.end()) {
      states.push_back(i + 1);
    }
  }
  std::sort(states.begin(), states.end());
}

GlobMatcher::States GlobMatcher::Start() const {
  States s{0};
  Close(s);
  return s;
}

GlobMatcher::States GlobMatcher::Step(const States& states, std::string_view name,
                                      bool skip_hidden) const {
  States out;
  const bool hidden = skip_hidden && !name.empty() && (name[0] == '.' || name[0] == '_');
  for (uint32_t i : states) {
    if (i >= segments_.size()) continue;
    const Segment& seg = segments_[i];
    if (seg.globstar) {
      if (!hidden) out.push_back(i);
      continue;
    }
    if (hidden && seg.leading_hidden != name[0]) continue;
    if (MatchSegment(seg, name) && std::find(out.begin(), out.end(), i + 1) == out.end())
      out.push_back(i + 1);
  }
  if (!out.empty()) Close(out);
  return out;
}

bool GlobMatcher::Accepts(const States& states) const {
  return !states.empty() && states.back() == segments_.size();
}

bool GlobMatcher::CanContinue(const States& states) const {
  return !states.empty() && states.front() < segments_.size();
}

bool GlobMatcher::Match(std::string_view path) const {
  States s = Start();
  for (std::string_view part : SplitSegments(path)) {
    s = Step(s, part, /*skip_hidden=*/false);
    if (s.empty()) return false;
  }
  return Accepts(s);
}

GlobSplit SplitLiteralPrefix(std::string_view pattern) {
  auto parts = SplitSegments(pattern);
  size_t k = 0;
  while (k + 1 < parts.size() && parts[k] != "**" && !SegmentHasWildcards(parts[k])) ++k;
  GlobSplit out;
  for (size_t i = 0; i < k; ++i) {
    if (i > 0) out.base_dir += '/';
    out.base_dir += UnescapeGlob(parts[i]);
  }
  if (k > 0 && out.base_dir.empty()) out.base_dir.push_back('/');  // parts[0] == "": root
  for (size_t i = k; i < parts.size(); ++i) {
    if (i > k) out.rest += '/';
    out.rest += parts[i];
  }
  return out;
}

bool HasWildcards(std::string_view pattern) { return SegmentHasWildcards(pattern); }

std::string UnescapeGlob(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size());
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) ++i;
    out.push_back(pattern[i]);
  }
  return out;
}

}  // namespace dl::discovery
