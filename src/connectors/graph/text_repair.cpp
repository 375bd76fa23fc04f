#include "connectors/graph/text_repair.h"

#include "core/appointment_text.h"
#include "core/utf8.h"

namespace agendasync::graph {

nlohmann::json parse_repairing(std::string_view body, bool& repaired) {
  repaired = !valid_utf8(body);
  if (!repaired) return nlohmann::json::parse(body, nullptr, false);
  return nlohmann::json::parse(repair_utf8(body), nullptr, false);
}

std::vector<std::string> fields_with_replacement(const Appointment& item) {
  std::vector<std::string> fields;
  for_each_text_field(item, [&](const std::string& name, const std::string& text) {
    if (text.find("\xEF\xBF\xBD") != std::string::npos) fields.push_back(name);
  });
  return fields;
}

}  // namespace agendasync::graph
