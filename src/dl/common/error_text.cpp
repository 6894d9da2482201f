#include "dl/common/error_text.hpp"

namespace dl {

std::string BoundedErrorText(std::string_view message) {
  message = message.substr(0, message.find("\n\nLINE "));
  if (message.size() <= kMaxErrorText) return std::string(message);
  size_t cut = kMaxErrorText;
  while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;
  return std::string(message.substr(0, cut)) + "...(truncated)";
}

}  // namespace dl
