// libFuzzer target: every Graph JSON reader (events, delta pages, $batch answers, error
// bodies, token answers) must return a value or an Error, never crash or hang.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "connectors/graph/batch.h"
#include "connectors/graph/errors.h"
#include "connectors/graph/event_json.h"
#include "connectors/graph/token.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace agendasync;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_discarded()) {
    (void)graph::parse_event(parsed);
    if (parsed.is_object()) {
      if (const auto value = parsed.find("value"); value != parsed.end() && value->is_array()) {
        for (const auto& entry : *value) {
          auto event = graph::parse_event(entry);
          if (event && event->item.recurrence) {
            (void)graph::event_to_json(event->item, "k", {});
          }
        }
      }
    }
  }
  (void)graph::parse_batch_response(text, 20);
  (void)graph::graph_error(400, text, "fuzz");
  (void)graph::token_error(400, text, graph::AppCredentials{});
  (void)graph::token_roles(std::string(text));
  return 0;
}
