// CreateItem, GetItem, UpdateItem, DeleteItem for calendar items.
// References:
// learn.microsoft.com/exchange/client-developer/web-service-reference/createitem-operation-calendar-item
// (and updateitem-operation, deleteitem-operation, getitem-operation-calendar-item).
#include <fmt/format.h>

#include "exsim/ews/operation.h"
#include "exsim/store/xml_util.h"

namespace exsim {
namespace {

bool sends_mail(std::string_view mode) {
  return mode == "SendOnlyToAll" || mode == "SendToAllAndSaveCopy" || mode == "SendOnlyToChanged" ||
         mode == "SendToChangedAndSaveCopy";
}

void record_mail(OperationContext& ctx, const Mailbox& mb, const StoredItem& item,
                 std::string kind) {
  OutboxMessage m;
  m.kind = std::move(kind);
  m.from = mb.address;
  m.to = attendee_addresses(item);
  m.subject = child_text(bag_root(item.props), "Subject");
  m.uid = child_text(bag_root(item.props), "UID");
  m.when = ctx.store.now();
  ctx.store.record_mail(std::move(m));
}

void add_error(pugi::xml_node messages, std::string_view element, const EwsError& e) {
  pugi::xml_node m = add_response_message(messages, element, e.code, e.message);
  // Create/Get/UpdateItem messages always carry Items (empty on error), as Exchange sends them.
  if (element != "DeleteItemResponseMessage") m.append_child("m:Items");
}

// Response objects (CreateItem of CancelCalendarItem, AcceptItem, ...): the organiser cancels
// (the item goes, attendees get a cancellation) or an attendee answers (the organiser gets the
// response). Mail is recorded unless MessageDisposition is SaveOnly.
void respond_to_meeting(OperationContext& ctx, pugi::xml_node messages, pugi::xml_node src) {
  pugi::xml_node ref = child(src, "ReferenceItemId");
  pugi::xml_document tmp;
  pugi::xml_node id = tmp.append_child("t:ItemId");
  id.append_attribute("Id") = ref.attribute("Id").value();
  auto r = resolve_item(ctx, id);
  if (auto* e = std::get_if<EwsError>(&r)) {
    add_error(messages, "CreateItemResponseMessage", *e);
    return;
  }
  auto& ri = std::get<ResolvedItem>(r);
  bool send =
      std::string_view(ctx.request.attribute("MessageDisposition").as_string()) != "SaveOnly";
  std::string_view kind = local_name(src);
  if (kind == "CancelCalendarItem") {
    if (send && has_attendees(*ri.item))
      record_mail(ctx, *ri.mailbox, *ri.item, "MeetingCancellation");
    if (ri.occurrence) {
      ri.item->overrides.erase(*ri.occurrence);
      ri.item->deleted_occurrences.insert(*ri.occurrence);
      ctx.store.record_update(*ri.mailbox, *ri.item);
    } else {
      ctx.store.remove_item(*ri.mailbox, ri.item->id);
    }
  } else if (send) {
    OutboxMessage m;
    m.kind = std::string(kind);
    m.from = ri.mailbox->address;
    m.to = {
        child_text(child(child(bag_root(ri.item->props), "Organizer"), "Mailbox"), "EmailAddress")};
    m.subject = child_text(bag_root(ri.item->props), "Subject");
    m.uid = child_text(bag_root(ri.item->props), "UID");
    m.when = ctx.store.now();
    ctx.store.record_mail(std::move(m));
  }
  add_response_message(messages, "CreateItemResponseMessage").append_child("m:Items");
}

}  // namespace

void handle_create_item(OperationContext& ctx) {
  pugi::xml_node messages = ctx.response.begin("CreateItem");
  std::string send_mode =
      ctx.request.attribute("SendMeetingInvitations").as_string("SendToAllAndSaveCopy");
  Mailbox* mb = ctx.principal;
  FolderKind folder = FolderKind::kCalendar;
  if (pugi::xml_node saved = child(ctx.request, "SavedItemFolderId")) {
    auto f = resolve_folder(
        ctx, element_children(saved).empty() ? pugi::xml_node() : element_children(saved).front());
    if (auto* e = std::get_if<EwsError>(&f)) {
      for (size_t i = 0;
           i < std::max<size_t>(1, element_children(child(ctx.request, "Items")).size()); ++i) {
        add_error(messages, "CreateItemResponseMessage", *e);
      }
      return;
    }
    std::tie(mb, folder) = std::get<std::pair<Mailbox*, FolderKind>>(f);
  }
  for (pugi::xml_node src : element_children(child(ctx.request, "Items"))) {
    if (!mb) {
      add_error(messages, "CreateItemResponseMessage",
                {"ErrorNonExistentMailbox",
                 "The account has no mailbox of its own: use ExchangeImpersonation or a "
                 "SavedItemFolderId with a Mailbox."});
      continue;
    }
    std::string_view kind = local_name(src);
    if (kind == "CancelCalendarItem" || kind == "AcceptItem" || kind == "DeclineItem" ||
        kind == "TentativelyAcceptItem") {
      respond_to_meeting(ctx, messages, src);
      continue;
    }
    if (local_name(src) != "CalendarItem") {
      add_error(messages, "CreateItemResponseMessage",
                {"ErrorInvalidItemForOperationCreateItem",
                 fmt::format("exsim stores calendar items only, not {}.", local_name(src))});
      continue;
    }
    if (folder == FolderKind::kRoot) folder = FolderKind::kCalendar;
    StoredItem& item = ctx.store.new_item(*mb, folder);
    std::optional<FieldError> err;
    // Time zones first: they place Start/End values that carry no offset.
    TimeContext tc = ctx.time;
    if (pugi::xml_node tz = child(src, "StartTimeZone"))
      tc.zone = Zone::from_element(tz);
    else if (pugi::xml_node mtz = child(src, "MeetingTimeZone"))
      tc.zone = Zone::from_element(mtz);
    bool has_start = false;
    for (pugi::xml_node prop : element_children(src)) {
      has_start = has_start || local_name(prop) == "Start";
      if ((err = set_field(item, nullptr, nullptr, prop, false, tc))) break;
    }
    if (!err && !has_start) {
      // Exchange starts an item without Start at the next half hour.
      item.start = std::chrono::floor<std::chrono::minutes>(ctx.store.now());
      if (item.end < item.start) item.end = item.start + std::chrono::minutes(30);
    }
    // Without a zone of its own, the item takes the request's TimeZoneContext, as on Exchange.
    pugi::xml_node root = bag_root(item.props);
    if (!err && ctx.time.zone_definition && !child(root, "StartTimeZone") &&
        !child(root, "MeetingTimeZone")) {
      for (const char* name : {"t:StartTimeZone", "t:EndTimeZone"}) {
        pugi::xml_document tmp;
        pugi::xml_node z = tmp.append_copy(ctx.time.zone_definition);
        z.set_name(name);
        if ((err = set_field(item, nullptr, nullptr, z, false, tc))) break;
      }
    }
    if (!err) err = finish_item(item);
    if (err) {
      mb->items.erase(item.id);
      add_error(messages, "CreateItemResponseMessage", {err->code, err->message});
      continue;
    }
    item.field_versions.clear();
    ctx.store.record_create(*mb, item);
    if (sends_mail(send_mode) && has_attendees(item)) {
      item.meeting_request_sent = true;
      record_mail(ctx, *mb, item, "MeetingRequest");
    }
    pugi::xml_node msg = add_response_message(messages, "CreateItemResponseMessage");
    write_item_id_only(msg.append_child("m:Items"), {*mb, item, std::nullopt});
  }
}

void handle_get_item(OperationContext& ctx) {
  pugi::xml_node messages = ctx.response.begin("GetItem");
  ItemShape shape = ItemShape::parse(child(ctx.request, "ItemShape"));
  for (pugi::xml_node id : element_children(child(ctx.request, "ItemIds"))) {
    auto r = resolve_item(ctx, id);
    if (auto* e = std::get_if<EwsError>(&r)) {
      add_error(messages, "GetItemResponseMessage", *e);
      continue;
    }
    auto& ri = std::get<ResolvedItem>(r);
    pugi::xml_node msg = add_response_message(messages, "GetItemResponseMessage");
    write_calendar_item(msg.append_child("m:Items"), {*ri.mailbox, *ri.item, ri.occurrence}, shape);
  }
}

namespace {

// The field URI an update touches (for AutoResolve conflict detection).
std::string update_target(pugi::xml_node update) {
  for (pugi::xml_node c : element_children(update)) {
    std::string_view n = local_name(c);
    if (n == "FieldURI") return c.attribute("FieldURI").as_string();
    if (n == "IndexedFieldURI") return c.attribute("FieldURI").as_string();
    if (n == "ExtendedFieldURI") return extended_key(c);
  }
  return {};
}

std::optional<EwsError> check_change_key(pugi::xml_node id, const StoredItem& item,
                                         std::string_view resolution, pugi::xml_node updates) {
  pugi::xml_attribute ck = id.attribute("ChangeKey");
  if (!ck || resolution == "AlwaysOverwrite") return std::nullopt;
  auto version = decode_change_key(ck.value(), item.id);
  if (!version) return EwsError{"ErrorInvalidChangeKey", "ChangeKey is invalid."};
  if (*version == item.version) return std::nullopt;
  EwsError conflict{"ErrorIrresolvableConflict",
                    "The send or update operation could not be performed because the change key "
                    "passed in the request does not match the current change key for the item."};
  if (resolution == "NeverOverwrite") return conflict;
  // AutoResolve: only a field changed since the caller's version is a conflict.
  for (pugi::xml_node u : element_children(updates)) {
    auto it = item.field_versions.find(update_target(u));
    if (it != item.field_versions.end() && it->second > *version) return conflict;
  }
  return std::nullopt;
}

std::optional<FieldError> apply_updates(OperationContext& ctx, StoredItem& item,
                                        std::optional<Seconds> occurrence, pugi::xml_node updates) {
  OccurrenceOverride* ov = nullptr;
  if (occurrence) {
    auto [it, inserted] = item.overrides.try_emplace(*occurrence);
    if (inserted) {
      it->second.props = new_property_bag();
      it->second.start = *occurrence;
      it->second.end = *occurrence + (item.end - item.start);
    }
    ov = &it->second;
  }
  TimeContext tc = ctx.time;
  for (pugi::xml_node u : element_children(updates)) {
    std::string_view kind = local_name(u);
    if (kind == "DeleteItemField") {
      auto paths = element_children(u);
      if (paths.empty()) return FieldError{"ErrorInvalidRequest", "DeleteItemField needs a path."};
      // On an occurrence Exchange deletes the value of that occurrence alone (exchangelib's
      // plain save() of an occurrence sends one DeleteItemField per empty field). Microsoft:
      // a single occurrence is updated "with the same methods and operations" as a single
      // item, using the occurrence's id, and becomes a modified occurrence
      // (learn.microsoft.com/exchange/client-developer/exchange-web-services/
      // how-to-update-a-recurring-series-by-using-ews); Delete "removes a property from an
      // item" (learn.microsoft.com/exchange/client-developer/web-service-reference/
      // updateitem-operation). No page limits DeleteItemField to the master.
      if (auto e = delete_field(item, paths.front(), ov)) return e;
      continue;
    }
    if (kind != "SetItemField" && kind != "AppendToItemField") {
      return FieldError{"ErrorInvalidRequest", fmt::format("Unknown update {}.", kind)};
    }
    pugi::xml_node holder = child(u, "CalendarItem");
    if (!holder) holder = child(u, "Item");  // the base type is accepted for item: fields
    if (!holder) {
      return FieldError{"ErrorUpdatePropertyMismatch",
                        "The update must carry a CalendarItem element with the property."};
    }
    auto props = element_children(holder);
    if (props.size() != 1) {
      return FieldError{"ErrorIncorrectUpdatePropertyCount",
                        "Each SetItemField must carry exactly one property."};
    }
    std::string target = update_target(u);
    const FieldSpec* spec = field_by_element(local_name(props.front()));
    if (local_name(props.front()) != "ExtendedProperty" && spec && spec->uri != target) {
      return FieldError{"ErrorInvalidPropertySet",
                        fmt::format("The property {} does not match the FieldURI {}.",
                                    local_name(props.front()), target)};
    }
    if (local_name(props.front()) == "Start" || local_name(props.front()) == "End") {
      pugi::xml_node tz = child(bag_root(item.props), "StartTimeZone");
      if (tz) tc.zone = Zone::from_element(tz);
    }
    if (auto e = set_field(item, ov ? &ov->props : nullptr, ov, props.front(),
                           kind == "AppendToItemField", tc)) {
      return e;
    }
  }
  return finish_item(item);
}

}  // namespace

void handle_update_item(OperationContext& ctx) {
  pugi::xml_node messages = ctx.response.begin("UpdateItem");
  std::string resolution = ctx.request.attribute("ConflictResolution").as_string("AutoResolve");
  std::string send_mode = ctx.request.attribute("SendMeetingInvitationsOrCancellations")
                              .as_string("SendToAllAndSaveCopy");
  for (pugi::xml_node change : element_children(child(ctx.request, "ItemChanges"))) {
    pugi::xml_node id;
    for (pugi::xml_node c : element_children(change)) {
      std::string_view n = local_name(c);
      if (n == "ItemId" || n == "OccurrenceItemId" || n == "RecurringMasterItemId") id = c;
    }
    auto r = resolve_item(ctx, id);
    if (auto* e = std::get_if<EwsError>(&r)) {
      add_error(messages, "UpdateItemResponseMessage", *e);
      continue;
    }
    auto& ri = std::get<ResolvedItem>(r);
    pugi::xml_node updates = child(change, "Updates");
    if (auto e = check_change_key(id, *ri.item, resolution, updates)) {
      add_error(messages, "UpdateItemResponseMessage", *e);
      continue;
    }
    // Apply to a copy so that a failing update leaves the item untouched.
    StoredItem backup = *ri.item;
    backup.props = clone_property_bag(ri.item->props);
    for (auto& [k, o] : backup.overrides) o.props = clone_property_bag(o.props);
    if (auto e = apply_updates(ctx, *ri.item, ri.occurrence, updates)) {
      *ri.item = std::move(backup);
      add_error(messages, "UpdateItemResponseMessage", {e->code, e->message});
      continue;
    }
    ctx.store.record_update(*ri.mailbox, *ri.item);
    if (sends_mail(send_mode) && has_attendees(*ri.item)) {
      ++ri.item->sequence_number;
      ri.item->meeting_request_sent = true;
      record_mail(ctx, *ri.mailbox, *ri.item, "MeetingUpdate");
    }
    pugi::xml_node msg = add_response_message(messages, "UpdateItemResponseMessage");
    write_item_id_only(msg.append_child("m:Items"), {*ri.mailbox, *ri.item, ri.occurrence});
    add_text(msg.append_child("m:ConflictResults"), "t:Count", "0");
  }
}

void handle_delete_item(OperationContext& ctx) {
  pugi::xml_node messages = ctx.response.begin("DeleteItem");
  std::string delete_type = ctx.request.attribute("DeleteType").as_string("MoveToDeletedItems");
  std::string send_mode =
      ctx.request.attribute("SendMeetingCancellations").as_string("SendToAllAndSaveCopy");
  for (pugi::xml_node id : element_children(child(ctx.request, "ItemIds"))) {
    auto r = resolve_item(ctx, id);
    if (auto* e = std::get_if<EwsError>(&r)) {
      add_error(messages, "DeleteItemResponseMessage", *e);
      continue;
    }
    auto& ri = std::get<ResolvedItem>(r);
    StoredItem& item = *ri.item;
    if (sends_mail(send_mode) && has_attendees(item)) {
      record_mail(ctx, *ri.mailbox, item, "MeetingCancellation");
    }
    if (ri.occurrence) {
      // Deleting one occurrence changes the master: it gains a DeletedOccurrence.
      item.overrides.erase(*ri.occurrence);
      item.deleted_occurrences.insert(*ri.occurrence);
      ctx.store.record_update(*ri.mailbox, item);
    } else if (delete_type == "MoveToDeletedItems" && item.folder == FolderKind::kCalendar) {
      StoredItem& moved = ctx.store.new_item(*ri.mailbox, FolderKind::kDeletedItems);
      uint64_t new_id = moved.id;
      moved = item;
      moved.id = new_id;
      moved.folder = FolderKind::kDeletedItems;
      moved.props = clone_property_bag(item.props);
      ctx.store.record_create(*ri.mailbox, moved);
      ctx.store.remove_item(*ri.mailbox, item.id);
    } else {
      ctx.store.remove_item(*ri.mailbox, item.id);
    }
    add_response_message(messages, "DeleteItemResponseMessage");
  }
}

}  // namespace exsim
