#pragma once
/// Which organisation a free scheduler worker serves next (issue 16 §6), as a pure decision so
/// the rule is tested without threads or clocks. One daemon runs every organisation's pairs on
/// one pool; runs are never pre-empted, so fairness is decided when a run starts:
///
/// 1. Fewest workers first: among organisations with a due pair that is not running, the one
///    holding the fewest workers now goes first, then the one whose latest start is oldest
///    (an organisation that never ran goes first), then the one whose pair has waited longest.
///    An organisation's change therefore waits for at most one run to end, not for the
///    hundreds another organisation has queued.
/// 2. Headroom: once the scheduler serves more than one organisation, the last
///    `reserved_workers` free workers go only to an organisation that holds no worker. Runs
///    of a first sync take minutes; without headroom a second organisation's change would wait
///    for one of them to end. A scheduler that has only ever seen one organisation (every
///    single-organisation deployment) keeps all its workers.
#include <chrono>
#include <cstddef>
#include <optional>
#include <span>

namespace agendasync::service {

/// One organisation with at least one due pair that is not running.
struct OrgTurn {
  std::size_t running = 0;  ///< workers it holds now
  /// Its latest run start; the epoch when it has not run yet.
  std::chrono::steady_clock::time_point last_start{};
  /// When its longest-waiting due pair became due.
  std::chrono::steady_clock::time_point earliest_due{};
};

/// The index in `waiting` of the organisation a free worker runs next, or nullopt when the
/// worker must stay free (the headroom of rule 2). `free_workers` counts this worker too.
std::optional<std::size_t> next_org(std::span<const OrgTurn> waiting, std::size_t free_workers,
                                    std::size_t reserved_workers, bool several_orgs);

}  // namespace agendasync::service
