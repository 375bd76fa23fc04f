#pragma once
/// A strict pull reader of JSON text, for documents this program wrote (appointment_scan.cpp):
/// no tree, no copies beyond the strings asked for. Anything it does not take (a fraction, an
/// exponent, a number beyond 64 bits, a key with escapes, malformed text) makes it `bad()`,
/// and the caller falls back to nlohmann's parser, which decides what the text means.
#include <cstdint>
#include <string>
#include <string_view>

namespace agendasync::store {

class JsonScan {
 public:
  explicit JsonScan(std::string_view text) : text_(text) {}

  /// Set by the first thing that is not what was asked for; every call after it does nothing
  /// and returns false / empty. Loops over members and elements end on it.
  bool bad() const { return bad_; }

  void begin_object() { open('{'); }
  /// The next member's name (its value is to be read next), or false at the object's end.
  bool next_member(std::string_view& key);
  void begin_array() { open('['); }
  /// True when another element follows (to be read next), false at the array's end.
  bool next_element();

  void string(std::string& out);
  std::int64_t integer();
  bool boolean();
  /// Consumes `null` and returns true when the value is null; otherwise reads nothing.
  bool null();
  /// Nothing but white space is left.
  void end();

 private:
  void open(char bracket);
  /// Before a member or an element: the comma unless it is the first; false at `close`.
  bool more(char close);
  void skip_space();
  bool fail() {
    bad_ = true;
    return false;
  }
  std::string_view text_;
  std::size_t at_ = 0;
  /// The container just opened has no member yet (a closed container counts as one of its
  /// parent's elements, so this is false again after it).
  bool first_ = false;
  bool bad_ = false;
};

}  // namespace agendasync::store
