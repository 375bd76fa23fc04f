#include "sync/failures.h"

#include <map>
#include <tuple>

#include <fmt/format.h>

namespace agendasync::sync {

std::vector<std::string> report_lines(const std::vector<WriteFailure>& failures) {
  using Cause = std::tuple<std::string, std::string, ErrorKind, std::string>;
  std::map<Cause, std::vector<const WriteFailure*>> by_cause;
  std::vector<Cause> order;
  for (const WriteFailure& failure : failures) {
    Cause cause{failure.operation, failure.side, failure.error.kind, failure.error.message};
    auto [it, inserted] = by_cause.try_emplace(cause);
    if (inserted) order.push_back(std::move(cause));
    it->second.push_back(&failure);
  }
  std::vector<std::string> lines;
  lines.reserve(order.size());
  for (const Cause& cause : order) {
    const auto& same = by_cause.at(cause);
    const WriteFailure& first = *same.front();
    if (same.size() == 1) {
      lines.push_back(fmt::format("{} {} on {} failed ({}): {}", first.operation, first.key,
                                  first.side, to_string(first.error.kind), first.error.message));
    } else {
      lines.push_back(fmt::format("{} items: {} on {} failed ({}): {} (first: {})", same.size(),
                                  first.operation, first.side, to_string(first.error.kind),
                                  first.error.message, first.key));
    }
  }
  return lines;
}

}  // namespace agendasync::sync
