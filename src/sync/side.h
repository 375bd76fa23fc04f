#pragma once
/// The two ends of a pair. The engine syncs any two CalendarSides; the policies (direction,
/// activity types, R25) speak of the host agenda and the remote calendar (Exchange through
/// EWS or Graph, later CalDAV), so the sides carry those names.
#include <array>
#include <cstddef>

namespace agendasync::sync {

enum class Side { kHost, kRemote };

inline constexpr std::array<Side, 2> kBothSides{Side::kHost, Side::kRemote};

/// The other end of the pair.
constexpr Side other(Side side) { return side == Side::kHost ? Side::kRemote : Side::kHost; }
/// Index into per-side arrays.
constexpr std::size_t index(Side side) { return side == Side::kHost ? 0 : 1; }
/// "host" / "remote", for plans, logs and audit records.
constexpr const char* to_string(Side side) { return side == Side::kHost ? "host" : "remote"; }

/// A value per side, addressed by Side.
template <class T>
struct PerSide {
  std::array<T, 2> values{};
  T& operator[](Side side) { return values[index(side)]; }
  const T& operator[](Side side) const { return values[index(side)]; }
};

}  // namespace agendasync::sync
