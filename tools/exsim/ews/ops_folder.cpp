// GetFolder and FindFolder for the folders exsim models (calendar, deleted items, root).
// Reference:
// learn.microsoft.com/exchange/client-developer/web-service-reference/getfolder-operation
#include <fmt/format.h>

#include "exsim/ews/operation.h"
#include "exsim/store/xml_util.h"

namespace exsim {
namespace {

struct FolderShape {
  std::string base = "IdOnly";
  std::set<std::string> uris;
  bool wants(std::string_view uri, bool in_default) const {
    return uris.count(std::string(uri)) || base == "AllProperties" ||
           (base == "Default" && in_default);
  }
};

FolderShape parse_folder_shape(pugi::xml_node shape) {
  FolderShape s;
  s.base = child_text(shape, "BaseShape");
  for (pugi::xml_node p : children(child(shape, "AdditionalProperties"), "FieldURI")) {
    s.uris.insert(p.attribute("FieldURI").as_string());
  }
  return s;
}

size_t count_items(const Mailbox& mb, FolderKind folder) {
  size_t n = 0;
  for (const auto& [id, item] : mb.items) n += item.folder == folder ? 1 : 0;
  return n;
}

void write_folder(pugi::xml_node parent, const Mailbox& mb, FolderKind folder,
                  const FolderShape& shape) {
  const char* element = folder == FolderKind::kCalendar ? "t:CalendarFolder" : "t:Folder";
  pugi::xml_node f = parent.append_child(element);
  pugi::xml_node id = f.append_child("t:FolderId");
  id.append_attribute("Id") = encode_folder_id(mb.index, folder).c_str();
  id.append_attribute("ChangeKey") = "AgAAAA==";
  if (shape.wants("folder:ParentFolderId", false) && folder != FolderKind::kRoot) {
    pugi::xml_node p = f.append_child("t:ParentFolderId");
    p.append_attribute("Id") = encode_folder_id(mb.index, FolderKind::kRoot).c_str();
    p.append_attribute("ChangeKey") = "AQAAAA==";
  }
  if (shape.wants("folder:FolderClass", false)) {
    add_text(f, "t:FolderClass", folder == FolderKind::kCalendar ? "IPF.Appointment" : "IPF.Note");
  }
  if (shape.wants("folder:DisplayName", true)) {
    add_text(f, "t:DisplayName",
             folder == FolderKind::kCalendar               ? "Calendar"
             : folder == FolderKind::kDeletedItems         ? "Deleted Items"
             : folder == FolderKind::kRecoverableDeletions ? "Deletions"
                                                           : "Top of Information Store");
  }
  if (shape.wants("folder:TotalCount", true)) {
    add_text(f, "t:TotalCount", std::to_string(count_items(mb, folder)));
  }
  if (shape.wants("folder:ChildFolderCount", true)) {
    add_text(f, "t:ChildFolderCount", folder == FolderKind::kRoot ? "2" : "0");
  }
  if (shape.wants("folder:EffectiveRights", false)) {
    pugi::xml_node r = f.append_child("t:EffectiveRights");
    for (const char* right : {"t:CreateAssociated", "t:CreateContents", "t:CreateHierarchy",
                              "t:Delete", "t:Modify", "t:Read"}) {
      add_text(r, right, "true");
    }
    if (folder == FolderKind::kCalendar) add_text(r, "t:ViewPrivateItems", "true");
  }
  if (folder != FolderKind::kCalendar && shape.wants("folder:UnreadCount", true)) {
    add_text(f, "t:UnreadCount", "0");
  }
}

}  // namespace

void handle_get_folder(OperationContext& ctx) {
  pugi::xml_node messages = ctx.response.begin("GetFolder");
  FolderShape shape = parse_folder_shape(child(ctx.request, "FolderShape"));
  for (pugi::xml_node id : element_children(child(ctx.request, "FolderIds"))) {
    auto r = resolve_folder(ctx, id);
    if (auto* e = std::get_if<EwsError>(&r)) {
      add_response_message(messages, "GetFolderResponseMessage", e->code, e->message)
          .append_child("m:Folders");
      continue;
    }
    auto [mb, folder] = std::get<std::pair<Mailbox*, FolderKind>>(r);
    pugi::xml_node msg = add_response_message(messages, "GetFolderResponseMessage");
    write_folder(msg.append_child("m:Folders"), *mb, folder, shape);
  }
}

void handle_find_folder(OperationContext& ctx) {
  pugi::xml_node messages = ctx.response.begin("FindFolder");
  FolderShape shape = parse_folder_shape(child(ctx.request, "FolderShape"));
  for (pugi::xml_node id : element_children(child(ctx.request, "ParentFolderIds"))) {
    auto r = resolve_folder(ctx, id);
    if (auto* e = std::get_if<EwsError>(&r)) {
      add_response_message(messages, "FindFolderResponseMessage", e->code, e->message);
      continue;
    }
    auto [mb, folder] = std::get<std::pair<Mailbox*, FolderKind>>(r);
    pugi::xml_node msg = add_response_message(messages, "FindFolderResponseMessage");
    pugi::xml_node root = msg.append_child("m:RootFolder");
    std::vector<FolderKind> subfolders;
    if (folder == FolderKind::kRoot)
      subfolders = {FolderKind::kCalendar, FolderKind::kDeletedItems};
    // FindFolder's rows count against EWSFindCountLimit as FindItem's do.
    const bool paged = child(ctx.request, "IndexedPageFolderView") && pages_partially(ctx);
    auto grant = charge_find_rows(ctx, subfolders.size(), child(ctx.request, "Restriction"), paged);
    if (!grant) return;
    const size_t total = subfolders.size();
    subfolders.resize(*grant);
    root.append_attribute("IndexedPagingOffset") = static_cast<int>(subfolders.size());
    root.append_attribute("TotalItemsInView") = static_cast<int>(total);
    root.append_attribute("IncludesLastItemInRange") =
        subfolders.size() == total ? "true" : "false";
    pugi::xml_node folders = root.append_child("t:Folders");
    for (FolderKind sub : subfolders) write_folder(folders, *mb, sub, shape);
  }
}

}  // namespace exsim
