#include "exsim/calendar/calendar_view.h"

#include <algorithm>

namespace exsim {
namespace {

// Zero-length items count when they start inside the window, as Exchange shows them.
bool overlaps(Seconds s, Seconds e, Seconds from, Seconds to) {
  return s < to && (e > from || (e == s && s >= from));
}

}  // namespace

std::vector<ViewRow> instance_rows(StoredItem& item, Seconds from, Seconds to) {
  std::vector<ViewRow> rows;
  if (!item.rule) return rows;
  auto duration = item.end - item.start;
  for (Seconds original : occurrence_starts(item, to, 100000)) {
    if (item.deleted_occurrences.count(original)) continue;
    Seconds s = original, e = original + duration;
    if (auto it = item.overrides.find(original); it != item.overrides.end()) {
      s = it->second.start;
      e = it->second.end;
    }
    if (overlaps(s, e, from, to)) rows.push_back({&item, original, s});
  }
  // Exceptions moved into the window from after it.
  for (const auto& [original, o] : item.overrides) {
    if (original >= to && overlaps(o.start, o.end, from, to)) {
      rows.push_back({&item, original, o.start});
    }
  }
  std::sort(rows.begin(), rows.end(),
            [](const ViewRow& a, const ViewRow& b) { return a.start < b.start; });
  return rows;
}

std::vector<ViewRow> calendar_view_rows(Mailbox& mb, FolderKind folder, Seconds from, Seconds to) {
  std::vector<ViewRow> rows;
  for (auto& [id, item] : mb.items) {
    if (item.folder != folder) continue;
    if (!item.rule) {
      if (overlaps(item.start, item.end, from, to))
        rows.push_back({&item, std::nullopt, item.start});
      continue;
    }
    auto instances = instance_rows(item, from, to);
    rows.insert(rows.end(), instances.begin(), instances.end());
  }
  std::sort(rows.begin(), rows.end(), [](const ViewRow& a, const ViewRow& b) {
    return a.start != b.start ? a.start < b.start : a.item->id < b.item->id;
  });
  return rows;
}

}  // namespace exsim
