#include "exsim/ews/schema_check.h"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

#include "exsim/store/xml_util.h"

namespace exsim {
namespace {

struct TextOnly {
  char prefix;  // 't' types, 'm' messages
  std::string_view name;
};

constexpr TextOnly kTextOnly[] = {
#include "exsim/ews/text_only_elements.inc"
};

bool is_text_only(std::string_view ns, std::string_view name) {
  char prefix = ns == kTypesNs ? 't' : ns == kMessagesNs ? 'm' : '\0';
  if (prefix == '\0') return false;
  // The generator writes the table sorted by (prefix, name).
  auto key = std::pair{prefix, name};
  auto it = std::lower_bound(std::begin(kTextOnly), std::end(kTextOnly), key,
                             [](const TextOnly& e, const std::pair<char, std::string_view>& k) {
                               return std::pair{e.prefix, e.name} < k;
                             });
  return it != std::end(kTextOnly) && it->prefix == prefix && it->name == name;
}

/// 1-based line and column of byte `offset` in `body`.
std::pair<size_t, size_t> line_and_position(std::string_view body, ptrdiff_t offset) {
  size_t end = std::min(body.size(), static_cast<size_t>(std::max<ptrdiff_t>(offset, 0)));
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < end; ++i) {
    if (body[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, end - line_start + 1};
}

}  // namespace

std::optional<SoapFault> check_text_only_content(pugi::xml_node root, std::string_view body) {
  std::vector<pugi::xml_node> stack{root};
  while (!stack.empty()) {
    pugi::xml_node node = stack.back();
    stack.pop_back();
    auto elements = element_children(node);
    if (!elements.empty()) {
      std::string ns = namespace_uri(node);
      if (is_text_only(ns, local_name(node))) {
        pugi::xml_node inner = elements.front();
        auto [line, position] = line_and_position(body, inner.offset_debug());
        SoapFault f{"ErrorSchemaValidation", "The request failed schema validation.", {}, {}, 500};
        f.violation.text = fmt::format(
            "The element '{}' in namespace '{}' cannot contain child element '{}' because the "
            "parent element's content model is text only.",
            local_name(node), ns, local_name(inner));
        f.violation.line = line;
        f.violation.position = position;
        return f;
      }
    }
    for (auto it = elements.rbegin(); it != elements.rend(); ++it) stack.push_back(*it);
  }
  return std::nullopt;
}

}  // namespace exsim
