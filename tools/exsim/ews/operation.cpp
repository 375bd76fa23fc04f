#include "exsim/ews/operation.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "exsim/store/xml_util.h"

namespace exsim {
namespace {
bool same_address(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}
}  // namespace

Mailbox* on_premises_mailbox(Store& store, std::string_view address) {
  Mailbox* mb = store.find_mailbox(address);
  return mb && served_on_premises(*mb) ? mb : nullptr;
}

std::string no_mailbox_message(std::string_view address) {
  return fmt::format("The SMTP address has no mailbox associated with it: {}", address);
}

bool may_access(const OperationContext& ctx, const Mailbox& mb) {
  if (ctx.principal == &mb) return true;
  if (same_address(ctx.account.user, mb.address)) return true;
  for (const std::string& a : ctx.account.full_access) {
    if (a == "*" || same_address(a, mb.address)) return true;
  }
  return false;
}

std::variant<std::pair<Mailbox*, FolderKind>, EwsError> resolve_folder(OperationContext& ctx,
                                                                       pugi::xml_node id) {
  std::string_view kind = local_name(id);
  Mailbox* mb = ctx.principal;
  FolderKind folder = FolderKind::kCalendar;
  if (kind == "DistinguishedFolderId") {
    std::string name = id.attribute("Id").as_string();
    if (name == "calendar")
      folder = FolderKind::kCalendar;
    else if (name == "deleteditems")
      folder = FolderKind::kDeletedItems;
    else if (name == "root" || name == "msgfolderroot")
      folder = FolderKind::kRoot;
    else if (name == "recoverableitemsdeletions")
      folder = FolderKind::kRecoverableDeletions;
    else {
      return EwsError{
          "ErrorFolderNotFound",
          fmt::format("exsim models the calendar, deleteditems and root folders, not '{}'.", name)};
    }
    if (pugi::xml_node m = child(id, "Mailbox")) {
      std::string addr = child_text(m, "EmailAddress");
      mb = on_premises_mailbox(ctx.store, addr);
      if (!mb) return EwsError{"ErrorNonExistentMailbox", no_mailbox_message(addr)};
    }
  } else if (kind == "FolderId") {
    auto decoded = decode_folder_id(id.attribute("Id").as_string());
    if (!decoded) return EwsError{"ErrorInvalidIdMalformed", "Id is malformed."};
    mb = ctx.store.mailbox_at(decoded->first);
    folder = decoded->second;
    if (!mb)
      return EwsError{"ErrorFolderNotFound",
                      "The specified folder could not be found in the store."};
    // An id handed out before the mailbox moved online names a mailbox this server no
    // longer holds.
    if (!served_on_premises(*mb)) {
      return EwsError{"ErrorNonExistentMailbox", no_mailbox_message(mb->address)};
    }
  } else {
    return EwsError{"ErrorInvalidRequest", fmt::format("{} is not a folder id.", kind)};
  }
  if (!mb) {
    return EwsError{"ErrorNonExistentMailbox",
                    "The account has no mailbox of its own: use ExchangeImpersonation or name the "
                    "mailbox in the DistinguishedFolderId."};
  }
  if (!may_access(ctx, *mb)) {
    return EwsError{"ErrorAccessDenied",
                    fmt::format("The account {} has no access to the mailbox {}.", ctx.account.user,
                                mb->address)};
  }
  return std::pair{mb, folder};
}

std::variant<ResolvedItem, EwsError> resolve_item(OperationContext& ctx, pugi::xml_node id) {
  std::string_view kind = local_name(id);
  std::optional<ItemKey> key;
  std::optional<int> instance_index;
  bool to_master = false;
  if (kind == "ItemId") {
    key = decode_item_id(id.attribute("Id").as_string());
  } else if (kind == "OccurrenceItemId") {
    key = decode_item_id(id.attribute("RecurringMasterId").as_string());
    instance_index = id.attribute("InstanceIndex").as_int(0);
  } else if (kind == "RecurringMasterItemId") {
    key = decode_item_id(id.attribute("OccurrenceId").as_string());
    to_master = true;
  } else {
    return EwsError{"ErrorInvalidRequest", fmt::format("{} is not an item id.", kind)};
  }
  if (!key) return EwsError{"ErrorInvalidIdMalformed", "Id is malformed."};
  Mailbox* mb = ctx.store.mailbox_at(key->mailbox);
  if (!mb) return EwsError{"ErrorItemNotFound", "The specified object was not found in the store."};
  if (!served_on_premises(*mb)) {
    return EwsError{"ErrorNonExistentMailbox", no_mailbox_message(mb->address)};
  }
  if (!may_access(ctx, *mb)) {
    return EwsError{"ErrorAccessDenied",
                    fmt::format("The account {} has no access to the mailbox {}.", ctx.account.user,
                                mb->address)};
  }
  auto it = mb->items.find(key->item);
  if (it == mb->items.end()) {
    return EwsError{"ErrorItemNotFound", "The specified object was not found in the store."};
  }
  StoredItem& item = it->second;
  ResolvedItem r{mb, &item, key->occurrence};
  if (to_master) {
    if (!item.rule) {
      return EwsError{"ErrorItemNotFound", "The item is not an occurrence of a recurring series."};
    }
    r.occurrence.reset();
    return r;
  }
  if (instance_index) {
    if (!item.rule || key->occurrence) {
      return EwsError{"ErrorCalendarCannotUseIdForOccurrenceId",
                      "RecurringMasterId is not a recurring master."};
    }
    auto starts =
        occurrence_starts(item, far_future(), static_cast<size_t>(std::max(*instance_index, 1)));
    if (*instance_index < 1 || static_cast<size_t>(*instance_index) > starts.size()) {
      return EwsError{"ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
                      "The occurrence index is out of the recurrence range."};
    }
    r.occurrence = starts[static_cast<size_t>(*instance_index) - 1];
  }
  if (r.occurrence) {
    if (!item.rule) return EwsError{"ErrorItemNotFound", "The occurrence no longer exists."};
    if (item.deleted_occurrences.count(*r.occurrence)) {
      return EwsError{"ErrorCalendarOccurrenceIsDeletedFromRecurrence",
                      "The occurrence was deleted from the recurrence."};
    }
    // The occurrence must still be part of the (possibly changed) pattern.
    auto starts = occurrence_starts(item, *r.occurrence, 100000);
    if (starts.empty() || starts.back() != *r.occurrence) {
      return EwsError{"ErrorItemNotFound", "The occurrence no longer exists in the series."};
    }
  }
  return r;
}

}  // namespace exsim
