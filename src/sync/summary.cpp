#include "sync/summary.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "sync/fields.h"

namespace agendasync::sync {

std::string format_text_repair(Side side, const TextRepair& repair) {
  return fmt::format(
      "{} item {}: {} arrived as invalid UTF-8; synced with U+FFFD in place of the broken "
      "bytes (fix the text in Exchange to restore it)",
      to_string(side), repair.ref.str(), fmt::join(repair.fields, ", "));
}

Summary summarize(const Plan& plan) {
  Summary summary;
  for (const auto& operation : plan.operations) {
    std::visit(
        [&](const auto& op) {
          using T = std::decay_t<decltype(op)>;
          if constexpr (std::is_same_v<T, CreateOp>) ++summary.sides[op.target].created;
          if constexpr (std::is_same_v<T, UpdateOp>) ++summary.sides[op.target].updated;
          if constexpr (std::is_same_v<T, DeleteOp>) ++summary.sides[op.target].deleted;
          if constexpr (std::is_same_v<T, LinkOp>) summary.linked += op.is_new ? 1 : 0;
          if constexpr (std::is_same_v<T, ResolveConflictOp>) ++summary.conflicts;
        },
        operation);
  }
  summary.skipped = plan.skipped.size();
  return summary;
}

std::string format_summary(const Summary& summary) {
  std::string text;
  for (Side side : kBothSides) {
    const SideCounts& counts = summary.sides[side];
    text += fmt::format("{}: {} created, {} updated, {} deleted", to_string(side), counts.created,
                        counts.updated, counts.deleted);
    if (counts.failed > 0) text += fmt::format(", {} failed", counts.failed);
    text += "; ";
  }
  text += fmt::format("{} linked, {} conflict(s), {} skipped", summary.linked, summary.conflicts,
                      summary.skipped);
  return text;
}

std::string format_plan(const Plan& plan) {
  std::string text;
  for (const auto& operation : plan.operations) {
    text += std::visit(
        [](const auto& op) -> std::string {
          using T = std::decay_t<decltype(op)>;
          if constexpr (std::is_same_v<T, CreateOp>) {
            return fmt::format("CREATE  on {:<6} '{}' {}{}  [{}]\n", to_string(op.target),
                               op.item.subject, render_instant(op.item.start),
                               op.read_only ? " (read-only)" : "", op.rule);
          } else if constexpr (std::is_same_v<T, UpdateOp>) {
            std::string fields;
            for (const auto& change : diff(op.previous, op.item, op.target == Side::kHost)) {
              fields += fmt::format("\n          {}: {} -> {}", change.field, change.before,
                                    change.after);
            }
            return fmt::format("UPDATE  on {:<6} {} '{}'  [{}]{}\n", to_string(op.target),
                               op.ref.str(), op.item.subject, op.rule, fields);
          } else if constexpr (std::is_same_v<T, DeleteOp>) {
            return fmt::format("DELETE  on {:<6} {} '{}'  [{}]\n", to_string(op.target),
                               op.ref.str(), op.previous.subject, op.rule);
          } else if constexpr (std::is_same_v<T, StampKeyOp>) {
            return {};  // only the hidden key is written: nothing a person would see change
          } else if constexpr (std::is_same_v<T, LinkOp>) {
            if (!op.is_new) return {};  // status bookkeeping: not news for a person
            return fmt::format("LINK    host {} <-> remote {} '{}'  [{}]\n",
                               op.record.sides[Side::kHost].ref.str(),
                               op.record.sides[Side::kRemote].ref.str(), op.record.base.subject,
                               op.rule);
          } else if constexpr (std::is_same_v<T, ResolveConflictOp>) {
            return fmt::format("CONFLICT {}: {} -> {} wins ({})  [{}]\n", op.link.str(),
                               fmt::join(op.fields, ", "), to_string(op.winner),
                               to_string(op.policy), op.rule);
          } else {
            return fmt::format("FORGET  {}  [{}]\n", op.link.str(), op.rule);
          }
        },
        operation);
  }
  for (const auto& skipped : plan.skipped) text += "SKIP    " + skipped + "\n";
  if (text.empty()) text = "nothing to do\n";
  return text;
}

}  // namespace agendasync::sync
