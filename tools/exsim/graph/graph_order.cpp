#include "exsim/graph/graph_order.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "exsim/graph/graph_event_json.h"

namespace exsim {
namespace {

using nlohmann::json;

struct Key {
  std::vector<std::string> path;  // "start/dateTime" -> {"start", "dateTime"}
  bool descending = false;
};

std::string trimmed(std::string text) {
  text.erase(0, text.find_first_not_of(' '));
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

std::vector<Key> keys_of(const std::string& orderby) {
  std::vector<Key> keys;
  size_t at = 0;
  while (at <= orderby.size()) {
    size_t comma = orderby.find(',', at);
    if (comma == std::string::npos) comma = orderby.size();
    std::string clause = trimmed(orderby.substr(at, comma - at));
    at = comma + 1;
    if (clause.empty()) continue;
    Key key;
    size_t space = clause.find(' ');
    if (space != std::string::npos) {
      std::string direction = trimmed(clause.substr(space + 1));
      for (char& c : direction) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      key.descending = direction == "desc";
      clause = clause.substr(0, space);
    }
    for (size_t from = 0; from <= clause.size();) {
      size_t slash = clause.find('/', from);
      if (slash == std::string::npos) slash = clause.size();
      key.path.push_back(clause.substr(from, slash - from));
      from = slash + 1;
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

// The value at `path` (property names matched without case, as OData does); null when absent.
const json* value_at(const json& event, const std::vector<std::string>& path) {
  const json* at = &event;
  for (const std::string& name : path) {
    if (!at->is_object()) return nullptr;
    const json* next = nullptr;
    for (auto it = at->begin(); it != at->end(); ++it) {
      if (it.key().size() == name.size() &&
          std::equal(name.begin(), name.end(), it.key().begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          })) {
        next = &it.value();
        break;
      }
    }
    if (!next) return nullptr;
    at = next;
  }
  return at;
}

// -1, 0, 1; null first (OData's order for ascending), text without case.
int compare(const json* a, const json* b) {
  const bool a_null = !a || a->is_null();
  const bool b_null = !b || b->is_null();
  if (a_null || b_null) return a_null == b_null ? 0 : (a_null ? -1 : 1);
  if (a->is_string() && b->is_string()) {
    std::string x = a->get<std::string>(), y = b->get<std::string>();
    for (char& c : x) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (char& c : y) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return x < y ? -1 : (y < x ? 1 : 0);
  }
  return *a < *b ? -1 : (*b < *a ? 1 : 0);
}

}  // namespace

std::optional<GraphError> order_rows(const Mailbox& mb, std::vector<ViewRow>& rows,
                                     const std::string& orderby) {
  std::vector<Key> keys = keys_of(orderby);
  if (keys.empty() || rows.empty()) return std::nullopt;
  // Keys are read from the rendered events (in UTC), so every property the resource shows can
  // be ordered by, and occurrences and exceptions sort by what they show.
  EventRendering utc;
  std::vector<json> events;
  events.reserve(rows.size());
  for (const ViewRow& row : rows)
    events.push_back(render_event(mb, *row.item, row.occurrence, utc));
  for (const Key& key : keys) {
    if (!value_at(events.front(), {key.path.front()})) {
      return GraphError{400, "BadRequest",
                        fmt::format("Could not find a property named '{}' on type "
                                    "'microsoft.graph.event'.",
                                    key.path.front())};
    }
  }
  std::vector<size_t> order(rows.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    for (const Key& key : keys) {
      int c = compare(value_at(events[a], key.path), value_at(events[b], key.path));
      if (c != 0) return key.descending ? c > 0 : c < 0;
    }
    return false;
  });
  std::vector<ViewRow> sorted;
  sorted.reserve(rows.size());
  for (size_t i : order) sorted.push_back(rows[i]);
  rows = std::move(sorted);
  return std::nullopt;
}

}  // namespace exsim
