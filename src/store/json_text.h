#pragma once
/// Writes JSON text directly, byte for byte as nlohmann::json::dump() writes the same values
/// (compact, strings escaped the same way, invalid UTF-8 refused with the same exception),
/// without building a document tree first: the appointment documents of a first sync were
/// encoded through a tree four times per item (docs/DECISIONS.md, "Appointment documents
/// written directly"). The caller writes object members in the order dump() would (sorted
/// keys); appointment_document_test checks the text against documents the tree wrote.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace agendasync::store {

/// Length of the well-formed UTF-8 sequence at `text[at]` (RFC 3629: no overlongs, no
/// surrogates, nothing above U+10FFFF), or 0 when it is not one: the sequences nlohmann's
/// decoder accepts.
std::size_t utf8_sequence_length(std::string_view text, std::size_t at);

class JsonText {
 public:
  /// Room for an appointment document, so writing one rarely grows the text.
  JsonText() { out_.reserve(1024); }

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  /// An object member's name, plain ASCII needing no escape (the writers' own names); its
  /// value follows.
  void key(std::string_view name);
  void string(std::string_view value);
  void number(std::int64_t value);
  void boolean(bool value);
  void null();

  std::string take() { return std::move(out_); }

 private:
  void open(char bracket);
  void close(char bracket);
  /// Before a value or a member: the comma when it is not the first of its container.
  void separate();
  std::string out_;
  /// One bit per open container (up to 64 deep): set once it holds an element.
  std::uint64_t filled_ = 0;
  int depth_ = 0;
  bool after_key_ = false;
};

}  // namespace agendasync::store
