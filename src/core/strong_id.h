#pragma once
/// Distinct string-backed id types, so an EWS ItemId cannot be passed where a ChangeKey is due.
#include <compare>
#include <functional>
#include <string>
#include <utility>

namespace agendasync {

template <class Tag>
class StrongId {
 public:
  StrongId() = default;
  explicit StrongId(std::string value) : value_(std::move(value)) {}
  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  auto operator<=>(const StrongId&) const = default;
  bool operator==(const StrongId&) const = default;

 private:
  std::string value_;
};

/// The id of an item on one side: EWS ItemId, Graph id, CalDAV href, host appointment id.
using ItemRef = StrongId<struct ItemRefTag>;
/// The version of an item on one side: EWS ChangeKey, @odata.etag, ETag, host revision.
using VersionTag = StrongId<struct VersionTagTag>;
/// An opaque change-feed position: EWS SyncState, Graph deltaLink, host revision number.
using Cursor = StrongId<struct CursorTag>;
/// The key we stamp on every item we create remotely, so a crashed create is found, not
/// repeated (R28).
using IdempotencyKey = StrongId<struct IdempotencyKeyTag>;

}  // namespace agendasync

template <class Tag>
struct std::hash<agendasync::StrongId<Tag>> {
  size_t operator()(const agendasync::StrongId<Tag>& id) const noexcept {
    return std::hash<std::string>{}(id.str());
  }
};
