#pragma once
/// A CalendarSide that forwards everything to another one and tells a callback how many
/// writes it applied: the progress bar of long first syncs counts writes as they land.
#include <functional>

#include "core/calendar_side.h"

namespace agendasync::app {

class CountingSide final : public CalendarSide {
 public:
  /// `inner` must outlive this side; `applied` receives the number of writes of each batch.
  CountingSide(CalendarSide& inner, std::function<void(std::size_t)> applied)
      : inner_(inner), applied_(std::move(applied)) {}

  std::string describe() const override { return inner_.describe(); }
  Result<ChangeBatch> changes_since(const Cursor& cursor) override {
    return inner_.changes_since(cursor);
  }
  Result<std::pair<std::vector<SideItem>, Cursor>> list(const TimeWindow& window) override {
    return inner_.list(window);
  }
  Result<Cursor> list_paged(const TimeWindow& window, const ListPage& on_page) override {
    return inner_.list_paged(window, on_page);
  }
  Result<std::vector<SideItem>> fetch(std::span<const ItemRef> refs) override {
    return inner_.fetch(refs);
  }
  Result<std::optional<SideItem>> find_by_key(const IdempotencyKey& key) override {
    return inner_.find_by_key(key);
  }
  Result<std::map<IdempotencyKey, SideItem>> find_by_keys(
      std::span<const IdempotencyKey> keys) override {
    return inner_.find_by_keys(keys);
  }
  std::vector<WriteResult> apply(std::span<const Write> writes) override {
    auto results = inner_.apply(writes);
    if (applied_) applied_(writes.size());
    return results;
  }
  std::vector<TextRepair> take_text_repairs() override { return inner_.take_text_repairs(); }

 private:
  CalendarSide& inner_;
  std::function<void(std::size_t)> applied_;
};

}  // namespace agendasync::app
