#pragma once
/// What a run did (or, in a dry run, would do), per side: the per-user summary of R31/R37.
#include <cstddef>
#include <string>

#include "sync/plan.h"

namespace agendasync::sync {

struct SideCounts {
  std::size_t created = 0, updated = 0, deleted = 0, failed = 0;
  bool operator==(const SideCounts&) const = default;
};

struct Summary {
  PerSide<SideCounts> sides;
  std::size_t linked = 0;     ///< new pairings (R20 match, R27 key match)
  std::size_t conflicts = 0;  ///< links where both sides changed a field (R24)
  std::size_t skipped = 0;    ///< items left alone by a rule (R16, R19, R21)
};

/// Counts of a plan as if every write succeeded (dry run).
Summary summarize(const Plan& plan);
/// "host: 2 created, 1 updated, 0 deleted; remote: ...; 3 linked, 1 conflict".
std::string format_summary(const Summary& summary);
/// One text repair as a warning names it: the side, the item id and the fields, never the
/// text ("remote item AAMk..: subject, location arrived as invalid UTF-8 ...").
std::string format_text_repair(Side side, const TextRepair& repair);
/// The plan as a person reads it (R37), one operation per line with its rule.
std::string format_plan(const Plan& plan);

}  // namespace agendasync::sync
