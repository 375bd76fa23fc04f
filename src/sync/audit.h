#pragma once
/// The audit trail (R32): every applied change answers "why did this change?" with the item,
/// the side, the rule, the run and the fields before and after.
#include <string>
#include <vector>

#include "core/error.h"
#include "sync/fields.h"
#include "sync/side.h"

namespace agendasync::sync {

struct AuditRecord {
  std::string run_id;
  Instant at{};
  std::string pair_id;
  Side side = Side::kRemote;  ///< where the change was applied
  std::string item;           ///< the ref on that side (after a create: the new ref)
  std::string link;           ///< the link / idempotency key
  std::string operation;      ///< "create", "update", "delete"
  std::string rule;           ///< the plan's rule, e.g. "R19 two-way: changed on host"
  std::vector<FieldChange> changes;
};

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  virtual Result<void> record(const std::vector<AuditRecord>& records) = 0;
};

/// Keeps records in memory (tests, dry runs).
class MemoryAuditSink final : public AuditSink {
 public:
  Result<void> record(const std::vector<AuditRecord>& records) override {
    entries_.insert(entries_.end(), records.begin(), records.end());
    return {};
  }
  const std::vector<AuditRecord>& entries() const { return entries_; }

 private:
  std::vector<AuditRecord> entries_;
};

}  // namespace agendasync::sync
