#include "connectors/graph/delta_cursor.h"

#include <fmt/format.h>

#include <charconv>
#include <string_view>

namespace agendasync::graph {
namespace {

std::optional<long long> number(std::string_view text) {
  long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

Cursor encode_cursor(const DeltaCursor& cursor) {
  return Cursor(fmt::format("graph1|{}|{}|{}", cursor.from.time_since_epoch().count(),
                            cursor.to.time_since_epoch().count(), cursor.delta_link));
}

std::optional<DeltaCursor> decode_cursor(const Cursor& cursor) {
  std::string_view text = cursor.str();
  constexpr std::string_view kPrefix = "graph1|";
  if (!text.starts_with(kPrefix)) return std::nullopt;
  text.remove_prefix(kPrefix.size());
  const auto bar1 = text.find('|');
  if (bar1 == std::string_view::npos) return std::nullopt;
  const auto bar2 = text.find('|', bar1 + 1);
  if (bar2 == std::string_view::npos) return std::nullopt;
  const auto from = number(text.substr(0, bar1));
  const auto to = number(text.substr(bar1 + 1, bar2 - bar1 - 1));
  const std::string_view link = text.substr(bar2 + 1);
  if (!from || !to || *to <= *from || !link.starts_with("http")) return std::nullopt;
  return DeltaCursor{Instant{std::chrono::seconds(*from)}, Instant{std::chrono::seconds(*to)},
                     std::string(link)};
}

}  // namespace agendasync::graph
