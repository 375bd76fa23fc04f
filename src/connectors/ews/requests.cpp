#include "connectors/ews/requests.h"

#include <algorithm>
#include <sstream>

#include <pugixml.hpp>

#include "connectors/ews/calendar_schema.h"
#include "connectors/ews/xml.h"

namespace agendasync::ews {

namespace {

/// A SOAP envelope under construction: header filled from the context, `body` ready for the
/// operation element.
struct Envelope {
  pugi::xml_document doc;
  pugi::xml_node body;

  explicit Envelope(const RequestContext& context) {
    pugi::xml_node decl = doc.append_child(pugi::node_declaration);
    decl.append_attribute("version").set_value("1.0");
    decl.append_attribute("encoding").set_value("utf-8");
    pugi::xml_node envelope = doc.append_child("soap:Envelope");
    envelope.append_attribute("xmlns:soap").set_value(kSoapNs);
    envelope.append_attribute("xmlns:t").set_value(kTypesNs);
    envelope.append_attribute("xmlns:m").set_value(kMessagesNs);
    pugi::xml_node header = envelope.append_child("soap:Header");
    header.append_child("t:RequestServerVersion")
        .append_attribute("Version")
        .set_value(request_server_version(context.version));
    if (context.mode == AccessMode::kImpersonation) {
      header.append_child("t:ExchangeImpersonation")
          .append_child("t:ConnectingSID")
          .append_child("t:SmtpAddress")
          .text()
          .set(context.mailbox.c_str());
    }
    body = envelope.append_child("soap:Body");
  }

  std::string text() const {
    std::ostringstream out;
    doc.save(out, "", pugi::format_raw);
    return out.str();
  }
};

/// The user's calendar: in delegate mode the folder names its mailbox explicitly.
void add_calendar_folder(pugi::xml_node& parent, const RequestContext& context) {
  pugi::xml_node folder = parent.append_child("t:DistinguishedFolderId");
  folder.append_attribute("Id").set_value("calendar");
  if (context.mode == AccessMode::kDelegate) {
    folder.append_child("t:Mailbox")
        .append_child("t:EmailAddress")
        .text()
        .set(context.mailbox.c_str());
  }
}

void add_item_shape(pugi::xml_node& parent, const RequestContext& context, bool details) {
  pugi::xml_node shape = parent.append_child("m:ItemShape");
  shape.append_child("t:BaseShape").text().set("IdOnly");
  if (!details) return;
  pugi::xml_node properties = shape.append_child("t:AdditionalProperties");
  write_additional_properties(properties, context.version);
}

void add_target(pugi::xml_node& parent, const ItemTarget& target) {
  if (const auto* id = std::get_if<ItemId>(&target)) {
    pugi::xml_node node = parent.append_child("t:ItemId");
    node.append_attribute("Id").set_value(id->id.c_str());
    if (!id->change_key.empty())
      node.append_attribute("ChangeKey").set_value(id->change_key.c_str());
    return;
  }
  const auto& occurrence = std::get<OccurrenceRef>(target);
  pugi::xml_node node = parent.append_child("t:OccurrenceItemId");
  node.append_attribute("RecurringMasterId").set_value(occurrence.master_id.c_str());
  if (!occurrence.change_key.empty())
    node.append_attribute("ChangeKey").set_value(occurrence.change_key.c_str());
  node.append_attribute("InstanceIndex").set_value(occurrence.instance_index);
}

/// `<t:IsEqualTo>` of the idempotency key property and `key`, appended to `parent`.
void add_key_equals(pugi::xml_node parent, const std::string& key) {
  pugi::xml_node equal = parent.append_child("t:IsEqualTo");
  append_key_field_uri(equal);
  equal.append_child("t:FieldURIOrConstant")
      .append_child("t:Constant")
      .append_attribute("Value")
      .set_value(key.c_str());
}

}  // namespace

std::vector<std::pair<std::string, std::string>> request_headers(const RequestContext& context) {
  return {{"Content-Type", "text/xml; charset=utf-8"},
          {"Accept", "text/xml"},
          // Routes the request to the mailbox's server (required with impersonation on
          // Exchange 2013+, harmless in delegate mode).
          {"X-AnchorMailbox", context.mailbox}};
}

std::string build_get_item(const RequestContext& context, std::span<const ItemId> ids) {
  Envelope envelope(context);
  pugi::xml_node op = envelope.body.append_child("m:GetItem");
  add_item_shape(op, context, true);
  pugi::xml_node list = op.append_child("m:ItemIds");
  for (const ItemId& id : ids) add_target(list, id);
  return envelope.text();
}

std::string build_get_masters(const RequestContext& context,
                              std::span<const std::string> occurrence_ids) {
  Envelope envelope(context);
  pugi::xml_node op = envelope.body.append_child("m:GetItem");
  add_item_shape(op, context, true);
  pugi::xml_node list = op.append_child("m:ItemIds");
  for (const std::string& id : occurrence_ids) {
    list.append_child("t:RecurringMasterItemId")
        .append_attribute("OccurrenceId")
        .set_value(id.c_str());
  }
  return envelope.text();
}

std::string build_find_calendar_view(const RequestContext& context, Instant from, Instant to,
                                     int max_entries) {
  Envelope envelope(context);
  pugi::xml_node op = envelope.body.append_child("m:FindItem");
  op.append_attribute("Traversal").set_value("Shallow");
  // Ids, type and times only: details come from GetItem in batches.
  pugi::xml_node shape = op.append_child("m:ItemShape");
  shape.append_child("t:BaseShape").text().set("IdOnly");
  pugi::xml_node properties = shape.append_child("t:AdditionalProperties");
  for (const char* uri : {"calendar:Start", "calendar:End", "calendar:CalendarItemType"}) {
    properties.append_child("t:FieldURI").append_attribute("FieldURI").set_value(uri);
  }
  pugi::xml_node view = op.append_child("m:CalendarView");
  view.append_attribute("MaxEntriesReturned").set_value(max_entries);
  view.append_attribute("StartDate").set_value(format_date_time(from).c_str());
  view.append_attribute("EndDate").set_value(format_date_time(to).c_str());
  pugi::xml_node folders = op.append_child("m:ParentFolderIds");
  add_calendar_folder(folders, context);
  return envelope.text();
}

std::string build_find_by_key(const RequestContext& context, const std::string& key) {
  Envelope envelope(context);
  pugi::xml_node op = envelope.body.append_child("m:FindItem");
  op.append_attribute("Traversal").set_value("Shallow");
  add_item_shape(op, context, false);
  pugi::xml_node view = op.append_child("m:IndexedPageItemView");
  view.append_attribute("MaxEntriesReturned").set_value(10);
  view.append_attribute("Offset").set_value(0);
  view.append_attribute("BasePoint").set_value("Beginning");
  add_key_equals(op.append_child("m:Restriction"), key);
  pugi::xml_node folders = op.append_child("m:ParentFolderIds");
  add_calendar_folder(folders, context);
  return envelope.text();
}

std::string build_find_by_keys(const RequestContext& context, std::span<const std::string> keys) {
  Envelope envelope(context);
  pugi::xml_node op = envelope.body.append_child("m:FindItem");
  op.append_attribute("Traversal").set_value("Shallow");
  pugi::xml_node shape = op.append_child("m:ItemShape");
  shape.append_child("t:BaseShape").text().set("IdOnly");
  append_key_field_uri(shape.append_child("t:AdditionalProperties"));
  // Room for every key twice: a key found on more than one item must not hide another key.
  pugi::xml_node view = op.append_child("m:IndexedPageItemView");
  view.append_attribute("MaxEntriesReturned").set_value(static_cast<int>(keys.size()) * 2 + 10);
  view.append_attribute("Offset").set_value(0);
  view.append_attribute("BasePoint").set_value("Beginning");
  pugi::xml_node restriction = op.append_child("m:Restriction");
  // One key is a plain IsEqualTo; several are an Or of them.
  pugi::xml_node parent = keys.size() == 1 ? restriction : restriction.append_child("t:Or");
  for (const std::string& key : keys) add_key_equals(parent, key);
  pugi::xml_node folders = op.append_child("m:ParentFolderIds");
  add_calendar_folder(folders, context);
  return envelope.text();
}

std::string build_sync_folder_items(const RequestContext& context, const std::string& sync_state,
                                    int max_changes) {
  Envelope envelope(context);
  pugi::xml_node op = envelope.body.append_child("m:SyncFolderItems");
  add_item_shape(op, context, false);
  pugi::xml_node folder = op.append_child("m:SyncFolderId");
  add_calendar_folder(folder, context);
  if (!sync_state.empty()) op.append_child("m:SyncState").text().set(sync_state.c_str());
  op.append_child("m:MaxChangesReturned").text().set(max_changes);
  op.append_child("m:SyncScope").text().set("NormalItems");
  return envelope.text();
}

std::string build_create_item(const RequestContext& context, std::span<const CalendarItem> items) {
  Envelope envelope(context);
  pugi::xml_node op = envelope.body.append_child("m:CreateItem");
  // R39: never a meeting request, whatever the attendees.
  op.append_attribute("SendMeetingInvitations").set_value("SendToNone");
  pugi::xml_node folder = op.append_child("m:SavedItemFolderId");
  add_calendar_folder(folder, context);
  pugi::xml_node list = op.append_child("m:Items");
  for (const CalendarItem& item : items) write_calendar_item(list, item, context.version);
  return envelope.text();
}

std::string build_update_item(const RequestContext& context, std::span<const ItemChange> changes) {
  Envelope envelope(context);
  pugi::xml_node op = envelope.body.append_child("m:UpdateItem");
  // NeverOverwrite: a stale ChangeKey fails with ErrorIrresolvableConflict instead of
  // silently overwriting the user's edit.
  op.append_attribute("ConflictResolution").set_value("NeverOverwrite");
  op.append_attribute("SendMeetingInvitationsOrCancellations").set_value("SendToNone");
  pugi::xml_node list = op.append_child("m:ItemChanges");
  for (const ItemChange& change : changes) {
    pugi::xml_node node = list.append_child("t:ItemChange");
    add_target(node, change.target);
    pugi::xml_node updates = node.append_child("t:Updates");
    if (change.set_all) {
      write_all_fields(updates, change.after, context.version);
    } else {
      write_field_updates(updates, change.before, change.after, context.version);
    }
  }
  return envelope.text();
}

std::string build_delete_item(const RequestContext& context, std::span<const ItemTarget> targets) {
  Envelope envelope(context);
  pugi::xml_node op = envelope.body.append_child("m:DeleteItem");
  // Deleted Items, not a hard delete: a wrong delete stays recoverable for the user.
  op.append_attribute("DeleteType").set_value("MoveToDeletedItems");
  op.append_attribute("SendMeetingCancellations").set_value("SendToNone");
  pugi::xml_node list = op.append_child("m:ItemIds");
  for (const ItemTarget& target : targets) add_target(list, target);
  return envelope.text();
}

std::string build_subscribe_streaming(const RequestContext& context) {
  Envelope envelope(context);
  pugi::xml_node request =
      envelope.body.append_child("m:Subscribe").append_child("m:StreamingSubscriptionRequest");
  pugi::xml_node folders = request.append_child("t:FolderIds");
  add_calendar_folder(folders, context);
  pugi::xml_node events = request.append_child("t:EventTypes");
  for (const char* type :
       {"CreatedEvent", "DeletedEvent", "ModifiedEvent", "MovedEvent", "CopiedEvent"}) {
    events.append_child("t:EventType").text().set(type);
  }
  return envelope.text();
}

std::string build_get_streaming_events(const RequestContext& context,
                                       std::span<const std::string> subscription_ids,
                                       int connection_timeout_minutes) {
  Envelope envelope(context);
  pugi::xml_node op = envelope.body.append_child("m:GetStreamingEvents");
  pugi::xml_node ids = op.append_child("m:SubscriptionIds");
  for (const std::string& id : subscription_ids)
    ids.append_child("t:SubscriptionId").text().set(id.c_str());
  // Never outside what Exchange accepts, whatever a caller's option says.
  op.append_child("m:ConnectionTimeout")
      .text()
      .set(std::clamp(connection_timeout_minutes, kMinConnectionTimeoutMinutes,
                      kMaxConnectionTimeoutMinutes));
  return envelope.text();
}

std::string build_get_calendar_folder(const RequestContext& context) {
  Envelope envelope(context);
  pugi::xml_node op = envelope.body.append_child("m:GetFolder");
  op.append_child("m:FolderShape").append_child("t:BaseShape").text().set("IdOnly");
  pugi::xml_node ids = op.append_child("m:FolderIds");
  add_calendar_folder(ids, context);
  return envelope.text();
}

}  // namespace agendasync::ews
