// Internal to store/: compact JSON text of nlohmann values through one reused serializer and
// buffer. nlohmann's dump() builds a serializer (which queries the locale) and a new string on
// every call, which showed in the commit profile. The text is exactly dump()'s with
// ensure_ascii=false; invalid UTF-8 is replaced by U+FFFD rather than thrown.
// Thread-safety: an object belongs to one thread.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace flowgate::store_internal {

class JsonText {
 public:
  JsonText()
      : serializer_(nlohmann::detail::output_adapter<char>(buffer_), ' ',
                    nlohmann::json::error_handler_t::replace) {}
  JsonText(const JsonText&) = delete;
  JsonText& operator=(const JsonText&) = delete;

  // The text of `j`; valid until the next call on this object.
  const std::string& operator()(const nlohmann::json& j) {
    buffer_.clear();
    append(j);
    return buffer_;
  }
  // Appends the text of `j` to buffer().
  void append(const nlohmann::json& j) { serializer_.dump(j, false, false, 0); }
  std::string& buffer() { return buffer_; }

 private:
  std::string buffer_;  // declared first: the serializer writes into it
  nlohmann::detail::serializer<nlohmann::json> serializer_;
};

}  // namespace flowgate::store_internal
