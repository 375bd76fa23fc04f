#include "exsim/graph/graph_view.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "exsim/store/ids.h"

namespace exsim {
namespace {

// FNV-1a: stable across runs and platforms, which std::hash is not.
uint64_t fnv1a(std::string_view text, uint64_t seed) {
  uint64_t h = 1469598103934665603ULL ^ seed;
  for (unsigned char c : text) {
    h ^= static_cast<uint64_t>(std::tolower(c));
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

std::string graph_event_id(const Mailbox& mb, const StoredItem& item,
                           std::optional<Seconds> occurrence) {
  std::string id = encode_item_id({mb.index, item.id, occurrence});
  for (char& c : id) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return id;
}

std::optional<GraphEventRef> resolve_graph_event(Mailbox& mb, std::string_view rest_id) {
  std::string id(rest_id);
  for (char& c : id) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  auto key = decode_item_id(id);
  if (!key || key->mailbox != mb.index) return std::nullopt;
  auto it = mb.items.find(key->item);
  if (it == mb.items.end() || it->second.folder != FolderKind::kCalendar) return std::nullopt;
  StoredItem& item = it->second;
  if (key->occurrence) {
    if (!item.rule || item.deleted_occurrences.count(*key->occurrence)) return std::nullopt;
    if (!item.overrides.count(*key->occurrence)) {
      auto starts = occurrence_starts(item, *key->occurrence, 100000);
      if (std::find(starts.begin(), starts.end(), *key->occurrence) == starts.end()) {
        return std::nullopt;
      }
    }
  }
  return GraphEventRef{&mb, &item, key->occurrence};
}

std::string graph_user_id(const Mailbox& mb) {
  uint64_t a = fnv1a(mb.address, 1);
  uint64_t b = fnv1a(mb.address, 2);
  return fmt::format("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", a >> 32, (a >> 16) & 0xffff,
                     a & 0xfff, (b >> 48) & 0xfff, b & 0xffffffffffffULL);
}

Mailbox* find_graph_user(Store& store, std::string_view id_or_upn) {
  if (Mailbox* mb = store.find_mailbox(id_or_upn)) return mb;
  for (const auto& mb : store.mailboxes()) {
    std::string id = graph_user_id(*mb);
    if (id.size() == id_or_upn.size() &&
        std::equal(id.begin(), id.end(), id_or_upn.begin(), [](char x, char y) {
          return std::tolower(static_cast<unsigned char>(x)) ==
                 std::tolower(static_cast<unsigned char>(y));
        })) {
      return mb.get();
    }
  }
  return nullptr;
}

std::optional<GraphError> mailbox_not_online(const Mailbox& mb) {
  if (served_online(mb)) return std::nullopt;
  // 404 MailboxNotEnabledForRESTAPI for a mailbox "on a dedicated Microsoft Exchange Server"
  // (KB 4462988); Graph's current text, as it answers today, is the one quoted in the Q&A.
  // learn.microsoft.com/exchange/troubleshoot/user-and-shared-mailboxes/rest-api-is-not-yet-supported-for-this-mailbox-error
  // learn.microsoft.com/answers/questions/1457213/unable-to-obtain-free-busy-time-of-calendar-using
  return GraphError{404, "MailboxNotEnabledForRESTAPI",
                    "The mailbox is either inactive, soft-deleted, or is hosted on-premise."};
}

}  // namespace exsim
