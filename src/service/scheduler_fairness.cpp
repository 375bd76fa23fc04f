#include "service/scheduler_fairness.h"

#include <tuple>

namespace agendasync::service {

std::optional<std::size_t> next_org(std::span<const OrgTurn> waiting, std::size_t free_workers,
                                    std::size_t reserved_workers, bool several_orgs) {
  if (waiting.empty() || free_workers == 0) return std::nullopt;
  const auto order = [](const OrgTurn& turn) {
    return std::tie(turn.running, turn.last_start, turn.earliest_due);
  };
  std::size_t best = 0;
  for (std::size_t i = 1; i < waiting.size(); ++i) {
    if (order(waiting[i]) < order(waiting[best])) best = i;
  }
  // The chosen one holds the fewest workers: when it holds some, every other one does too,
  // and none of them may take the headroom.
  if (several_orgs && waiting[best].running > 0 && free_workers <= reserved_workers) {
    return std::nullopt;
  }
  return best;
}

}  // namespace agendasync::service
