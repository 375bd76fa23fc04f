// SyncFolderItems: the change feed of a folder, paged by MaxChangesReturned, resumed with an
// opaque, signed SyncState. Occurrence changes show as an Update of their master.
// Reference: learn.microsoft.com/exchange/client-developer/web-service-reference/syncfolderitems
#include <algorithm>

#include <fmt/format.h>

#include "exsim/ews/operation.h"
#include "exsim/store/xml_util.h"

namespace exsim {

void handle_sync_folder_items(OperationContext& ctx) {
  int max_changes = child(ctx.request, "MaxChangesReturned").text().as_int(0);
  if (max_changes < 1 || max_changes > 512) {
    ctx.fault =
        SoapFault{"ErrorSchemaValidation", "The request failed schema validation.", {}, {}, 500};
    ctx.fault->violation.text = fmt::format(
        "The 'MaxChangesReturned' element is invalid - The value '{}' is invalid according to its "
        "datatype: it must be between 1 and 512.",
        child_text(ctx.request, "MaxChangesReturned"));
    return;
  }
  pugi::xml_node messages = ctx.response.begin("SyncFolderItems");
  const char* element = "SyncFolderItemsResponseMessage";
  ItemShape shape = ItemShape::parse(child(ctx.request, "ItemShape"));
  pugi::xml_node folder_id = element_children(child(ctx.request, "SyncFolderId")).empty()
                                 ? pugi::xml_node()
                                 : element_children(child(ctx.request, "SyncFolderId")).front();
  auto r = resolve_folder(ctx, folder_id);
  if (auto* e = std::get_if<EwsError>(&r)) {
    add_response_message(messages, element, e->code, e->message);
    return;
  }
  auto [mb, folder] = std::get<std::pair<Mailbox*, FolderKind>>(r);
  uint64_t watermark = 0;
  std::string state = child_text(ctx.request, "SyncState");
  if (!state.empty()) {
    auto w = ctx.sync_states.decode(state, mb->index, folder);
    if (!w || *w > mb->seq) {
      // As Exchange answers it: an empty SyncState and IncludesLastItemInRange=true.
      pugi::xml_node m = add_response_message(
          messages, element, "ErrorInvalidSyncStateData",
          "Synchronization state data is corrupted or otherwise invalid. Start over with an "
          "empty SyncState.");
      m.append_child("m:SyncState");
      add_text(m, "m:IncludesLastItemInRange", "true");
      return;
    }
    watermark = *w;
  }
  std::set<uint64_t> ignored;
  for (pugi::xml_node id : element_children(child(ctx.request, "Ignore"))) {
    if (auto k = decode_item_id(id.attribute("Id").as_string())) ignored.insert(k->item);
  }

  struct Change {
    uint64_t seq;
    const StoredItem* item;  // null for a deletion
    uint64_t deleted_id;
  };
  std::vector<Change> changes;
  for (const auto& [id, item] : mb->items) {
    if (item.folder == folder && item.change_seq > watermark)
      changes.push_back({item.change_seq, &item, 0});
  }
  for (const Tombstone& t : mb->tombstones) {
    // An item created and removed since the state was taken never existed for the client.
    if (t.folder == folder && t.seq > watermark && t.create_seq <= watermark) {
      changes.push_back({t.seq, nullptr, t.id});
    }
  }
  std::sort(changes.begin(), changes.end(),
            [](const Change& a, const Change& b) { return a.seq < b.seq; });
  size_t take = std::min(changes.size(), static_cast<size_t>(max_changes));
  uint64_t new_watermark = take == changes.size() ? mb->seq : changes[take - 1].seq;

  pugi::xml_node msg = add_response_message(messages, element);
  add_text(msg, "m:SyncState", ctx.sync_states.encode(mb->index, folder, new_watermark));
  add_text(msg, "m:IncludesLastItemInRange", take == changes.size() ? "true" : "false");
  pugi::xml_node list = msg.append_child("m:Changes");
  for (size_t i = 0; i < take; ++i) {
    const Change& c = changes[i];
    uint64_t id = c.item ? c.item->id : c.deleted_id;
    if (ignored.count(id)) continue;
    if (!c.item) {
      pugi::xml_node d = list.append_child("t:Delete").append_child("t:ItemId");
      d.append_attribute("Id") = encode_item_id({mb->index, id, std::nullopt}).c_str();
      d.append_attribute("ChangeKey") = encode_change_key(id, 0).c_str();
      continue;
    }
    const char* kind = c.item->create_seq > watermark ? "t:Create" : "t:Update";
    write_calendar_item(list.append_child(kind), {*mb, *c.item, std::nullopt}, shape);
  }
}

}  // namespace exsim
