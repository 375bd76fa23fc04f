#pragma once
/// A calendar view as Exchange expands it for both protocols: EWS FindItem's CalendarView and
/// Graph's calendarView, calendarView/delta and /instances. Single items and occurrences
/// (exceptions at their moved times) overlapping a window; series masters are never rows.
#include <optional>
#include <vector>

#include "exsim/store/store.h"

namespace exsim {

/// One row of a calendar view: a single item, or an occurrence/exception of a master.
struct ViewRow {
  StoredItem* item;
  std::optional<Seconds> occurrence;  ///< original start, for occurrences and exceptions
  Seconds start;                      ///< where the row is shown (an exception's moved start)
};

/// The occurrences and exceptions of one master overlapping [from, to), by start. Deleted
/// occurrences are left out; an exception moved into the window from after it is included.
std::vector<ViewRow> instance_rows(StoredItem& master, Seconds from, Seconds to);

/// Every single item and every occurrence in `folder` overlapping [from, to), by start (ties
/// by item id, so pages are stable).
std::vector<ViewRow> calendar_view_rows(Mailbox& mb, FolderKind folder, Seconds from, Seconds to);

}  // namespace exsim
