// FindItem: CalendarView (occurrences expanded, masters hidden) and paged views of the folder;
// the rows of each answer are charged to the caller's EWSFindCountLimit (find_count_budget.h).
// Reference: learn.microsoft.com/exchange/client-developer/web-service-reference/finditem-operation
#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "exsim/calendar/calendar_view.h"
#include "exsim/ews/find_count_budget.h"
#include "exsim/ews/operation.h"
#include "exsim/ews/restriction.h"
#include "exsim/store/xml_util.h"

namespace exsim {

bool pages_partially(const OperationContext& ctx) {
  // "If the value of the RequestServerVersion element indicates a version of Exchange starting
  // with Exchange 2010 SP1 or Exchange Online, and the client is using paging, EWS may return
  // a partial result set instead of an error" (EWS throttling in Exchange).
  static const int kExchange2010Sp1 = *request_version_rank("Exchange2010_SP1");
  return ctx.request_version >= kExchange2010Sp1;
}

std::optional<size_t> charge_find_rows(OperationContext& ctx, size_t rows, bool restricted,
                                       bool paged) {
  if (!ctx.find_count) return rows;
  auto grant = ctx.find_count->charge(ctx.budget_key, rows, restricted, paged);
  if (!grant) {
    // learn.microsoft.com/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange
    // ("the server sends a failure response with error code ErrorServerBusy"; HTTP 500).
    ctx.fault = SoapFault{"ErrorServerBusy",
                          "The server cannot service this request right now. Try again later.",
                          {},
                          {},
                          500};
    return std::nullopt;
  }
  ctx.holds.push_back(grant->charge);
  return grant->rows;
}

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
    // Without a view FindItem answers every row; only EWSFindCountLimit bounds it.
    size_t max_entries = std::numeric_limits<size_t>::max();
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
      max_entries = 1000;
      if (auto m = cv.attribute("MaxEntriesReturned")) max_entries = m.as_uint();
    } else {
      for (auto& [iid, item] : mb->items) {
        if (item.folder == folder) rows.push_back({&item, std::nullopt, item.start});
      }
      pugi::xml_node view = child(ctx.request, "IndexedPageItemView");
      if (view) {
        offset = view.attribute("Offset").as_uint(0);
        max_entries = 1000;
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
    size_t last = first + std::min(total - first, max_entries);
    // The rows are held against the caller's budget until the response is handed back; a
    // paged request that does not fit gets what fits, any other is refused.
    const bool restricted = expr || child(ctx.request, "QueryString");
    const bool paged = child(ctx.request, "IndexedPageItemView") && pages_partially(ctx);
    auto grant = charge_find_rows(ctx, last - first, restricted, paged);
    if (!grant) return;
    last = first + *grant;
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
