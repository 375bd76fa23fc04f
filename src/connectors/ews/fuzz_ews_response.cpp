// libFuzzer target over every parser of data that comes from an Exchange server: SOAP
// responses (and the calendar mapping of the items in them), the streaming envelope
// splitter, and both Autodiscover answers.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "connectors/ews/autodiscover.h"
#include "connectors/ews/mapping.h"
#include "connectors/ews/responses.h"
#include "connectors/ews/streaming.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace agendasync::ews;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto parsed = parse_response(text)) {
    for (const ResponseMessage& message : parsed->messages) {
      for (const CalendarItem& item : message.items) {
        (void)from_ews(item, message.items);
      }
    }
  }
  EnvelopeSplitter splitter(1u << 16);
  // Feed in two halves so the incremental path is exercised.
  (void)splitter.feed(text.substr(0, size / 2));
  (void)splitter.feed(text.substr(size / 2));
  (void)parse_pox_autodiscover(text);
  (void)parse_soap_autodiscover(text);
  return 0;
}
