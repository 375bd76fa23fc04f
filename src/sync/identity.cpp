#include "sync/identity.h"

#include <fmt/format.h>

#include <cstdint>

#include "core/canonical.h"

namespace agendasync::sync {
namespace {

std::uint64_t fnv1a(std::string_view text, std::uint64_t seed) {
  std::uint64_t hash = seed;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace

IdempotencyKey derive_key(std::string_view pair_id, Side source, const ItemRef& source_ref) {
  // Length-prefixed parts, so ("ab","c") and ("a","bc") cannot collide.
  const std::string text = fmt::format("{}:{}|{}|{}:{}", pair_id.size(), pair_id, to_string(source),
                                       source_ref.str().size(), source_ref.str());
  // Two independent 64-bit FNV-1a streams: 128 bits keep collisions out of reach for any
  // realistic number of items, without a crypto dependency in the engine.
  return IdempotencyKey(fmt::format("as1-{:016x}{:016x}", fnv1a(text, 0xcbf29ce484222325ULL),
                                    fnv1a(text, 0x84222325cbf29ce4ULL)));
}

bool is_our_key(const IdempotencyKey& key) { return key.str().starts_with("as1-"); }

std::string item_fingerprint(Side side, const Appointment& item) {
  std::string hash = content_hash(item);
  if (side == Side::kHost) {
    hash += fmt::format("|{}|{}|{}|{}", item.activity_type, item.project_task ? 1 : 0, item.owner,
                        fmt::join(item.participants, ","));
  }
  return hash;
}

Appointment without_host_fields(Appointment item) {
  item.activity_type.clear();
  item.project_task = false;
  item.owner.clear();
  item.participants.clear();
  return item;
}

}  // namespace agendasync::sync
