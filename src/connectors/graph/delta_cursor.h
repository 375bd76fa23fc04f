#pragma once
/// The Graph side's Cursor: the rolling calendarView window and the delta link for it.
///
/// v1.0 calendarView/delta needs a fixed [start, end) window. We keep a rolling one
/// (default today-30d .. today+365d) and move it in steps (default 7 days):
///  1. While now-past stays within one step of the window's start, follow the delta link.
///  2. Once it moved further, start a new delta round for the new window (full listing of
///     it), then drain the old delta link. Items of the new round that overlap the part of
///     the window that is new ([old end, new end)) are reported as changed (they entered the
///     window); the rest were in the old window, and the old link reports whatever changed
///     in them up to the new round's snapshot (so nothing falls between the two: the new
///     round starts first, the old link is drained after, overlap is reported twice at
///     worst). Items that leave the window at its start are not reported at all: they are
///     not deleted, only out of scope.
///  3. The cursor then holds the new window and the new round's delta link.
/// Text form: "graph1|<from unix>|<to unix>|<delta link>".
#include <optional>
#include <string>

#include "core/appointment.h"
#include "core/strong_id.h"

namespace agendasync::graph {

struct DeltaCursor {
  Instant from{};
  Instant to{};
  std::string delta_link;
};

Cursor encode_cursor(const DeltaCursor& cursor);
/// nullopt for a cursor not made by encode_cursor (the caller answers kCursorInvalid).
std::optional<DeltaCursor> decode_cursor(const Cursor& cursor);

}  // namespace agendasync::graph
