// FindItem: CalendarView (occurrences expanded, masters hidden) and paged views of the folder.
// Reference: learn.microsoft.com/exchange/client-developer/web-service-reference/finditem-operation
#include <algorithm>

#include <fmt/format.h>

#include "exsim/calendar/calendar_view.h"
#include "exsim/ews/operation.h"
#include "exsim/ews/restriction.h"
#include "exsim/store/xml_util.h"

namespace exsim {
void handle_find_item(OperationContext& ctx) {
  pugi::xml_node messages = ctx.response.begin("FindItem");
  ItemShape shape = ItemShape::parse(child(ctx.request, "ItemShape"));
  pugi::xml_node restriction = child(ctx.request, "Restriction");
  pugi::xml_node expr = restriction ? element_children(restriction).front() : pugi::xml_node();
  for (pugi::xml_node id : element_children(child(ctx.request, "ParentFolderIds"))) {
    auto r = resolve_folder(ctx, id);
    if (auto* e = std::get_if<EwsError>(&r)) {
      add_response_message(messages, "FindItemResponseMessage", e->code, e->message);
      continue;
    }
    auto [mb, folder] = std::get<std::pair<Mailbox*, FolderKind>>(r);
    std::vector<ViewRow> rows;
    size_t offset = 0;
    size_t max_entries = 1000;
    bool from_end = false;
    if (pugi::xml_node cv = child(ctx.request, "CalendarView")) {
      auto from = parse_date_time(cv.attribute("StartDate").as_string());
      auto to = parse_date_time(cv.attribute("EndDate").as_string());
      if (!from || !to || to->utc() < from->utc()) {
        add_response_message(
            messages, "FindItemResponseMessage", "ErrorInvalidRequest",
            "CalendarView needs StartDate and EndDate with EndDate after StartDate.");
        continue;
      }
      Seconds f = from->offset ? from->utc() : ctx.time.zone.to_utc(from->wall);
      Seconds t = to->offset ? to->utc() : ctx.time.zone.to_utc(to->wall);
      rows = calendar_view_rows(*mb, folder, f, t);
      if (auto m = cv.attribute("MaxEntriesReturned")) max_entries = m.as_uint();
    } else {
      for (auto& [iid, item] : mb->items) {
        if (item.folder == folder) rows.push_back({&item, std::nullopt, item.start});
      }
      pugi::xml_node view = child(ctx.request, "IndexedPageItemView");
      if (view) {
        offset = view.attribute("Offset").as_uint(0);
        if (auto m = view.attribute("MaxEntriesReturned")) max_entries = m.as_uint();
        from_end = std::string_view(view.attribute("BasePoint").as_string()) == "End";
      }
    }
    if (expr) {
      std::erase_if(rows, [&](const ViewRow& row) {
        return !matches_restriction({*mb, *row.item, row.occurrence}, expr);
      });
    }
    if (pugi::xml_node order = child(child(ctx.request, "SortOrder"), "FieldOrder")) {
      std::string uri = child(order, "FieldURI").attribute("FieldURI").as_string();
      bool desc = std::string_view(order.attribute("Order").as_string()) == "Descending";
      // std::sort plus the original position is a stable sort without std::stable_sort,
      // whose temporary buffer clang-19 flags as deprecated in libstdc++ 12.
      std::vector<std::pair<std::string, size_t>> keys;
      for (size_t k = 0; k < rows.size(); ++k) {
        keys.emplace_back(field_text({*mb, *rows[k].item, rows[k].occurrence}, uri), k);
      }
      std::sort(keys.begin(), keys.end(), [&](const auto& a, const auto& b) {
        if (a.first != b.first) return desc ? b.first < a.first : a.first < b.first;
        return a.second < b.second;
      });
      std::vector<ViewRow> sorted;
      for (const auto& key : keys) sorted.push_back(rows[key.second]);
      rows = std::move(sorted);
    }
    size_t total = rows.size();
    size_t first = std::min(offset, total);
    if (from_end) first = total > offset + max_entries ? total - offset - max_entries : 0;
    size_t last = std::min(total, first + max_entries);
    pugi::xml_node msg = add_response_message(messages, "FindItemResponseMessage");
    pugi::xml_node root = msg.append_child("m:RootFolder");
    if (!child(ctx.request, "CalendarView")) {
      root.append_attribute("IndexedPagingOffset") = static_cast<unsigned>(last);
    }
    root.append_attribute("TotalItemsInView") = static_cast<unsigned>(total);
    root.append_attribute("IncludesLastItemInRange") = last == total ? "true" : "false";
    pugi::xml_node items = root.append_child("t:Items");
    for (size_t i = first; i < last; ++i) {
      write_calendar_item(items, {*mb, *rows[i].item, rows[i].occurrence}, shape);
    }
  }
}

}  // namespace exsim
