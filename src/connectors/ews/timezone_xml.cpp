#include "connectors/ews/timezone_xml.h"

#include <array>
#include <string>

#include "connectors/ews/xml.h"

namespace agendasync::ews {

namespace {

constexpr std::array<const char*, 7> kWeekdays{"Sunday",   "Monday", "Tuesday", "Wednesday",
                                               "Thursday", "Friday", "Saturday"};

std::optional<TzTransition> read_transition(const pugi::xml_node& node) {
  TzTransition out;
  const std::string_view name = local_name(node);
  if (name == "Transition") {
    out.kind = TzTransitionKind::kPlain;
  } else if (name == "AbsoluteDateTransition") {
    out.kind = TzTransitionKind::kAbsoluteDate;
  } else if (name == "RecurringDayTransition") {
    out.kind = TzTransitionKind::kRecurringDay;
  } else if (name == "RecurringDateTransition") {
    out.kind = TzTransitionKind::kRecurringDate;
  } else {
    return std::nullopt;
  }
  const pugi::xml_node to = child(node, "To");
  if (!to) return std::nullopt;
  out.to_group = std::string_view(to.attribute("Kind").as_string()) == "Group";
  out.to = to.text().as_string();
  if (out.kind == TzTransitionKind::kAbsoluteDate) {
    const auto when = parse_date_time(child_text(node, "DateTime"));
    if (!when) return std::nullopt;
    out.date_time = *when;
  }
  if (out.kind == TzTransitionKind::kRecurringDay || out.kind == TzTransitionKind::kRecurringDate) {
    const auto offset = parse_duration(child_text(node, "TimeOffset"));
    const auto month = parse_int(child_text(node, "Month"));
    if (!offset || !month || *month < 1 || *month > 12) return std::nullopt;
    out.time_offset = *offset;
    out.month = *month;
  }
  if (out.kind == TzTransitionKind::kRecurringDay) {
    const std::string day = child_text(node, "DayOfWeek");
    out.day_of_week = -1;
    for (std::size_t i = 0; i < kWeekdays.size(); ++i) {
      if (day == kWeekdays[i]) out.day_of_week = static_cast<int>(i);
    }
    const auto occurrence = parse_int(child_text(node, "Occurrence"));
    if (out.day_of_week < 0 || !occurrence || *occurrence < -1 || *occurrence > 5 ||
        *occurrence == 0)
      return std::nullopt;
    out.occurrence = *occurrence;
  }
  if (out.kind == TzTransitionKind::kRecurringDate) {
    const auto day = parse_int(child_text(node, "Day"));
    if (!day || *day < 1 || *day > 31) return std::nullopt;
    out.day = *day;
  }
  return out;
}

bool read_transitions(const pugi::xml_node& list, std::vector<TzTransition>& out) {
  for (const pugi::xml_node node : list.children()) {
    if (node.type() != pugi::node_element) continue;
    auto transition = read_transition(node);
    if (!transition) return false;
    out.push_back(std::move(*transition));
  }
  return true;
}

void write_transition(pugi::xml_node& parent, const TzTransition& t) {
  const char* name = "t:Transition";
  switch (t.kind) {
    case TzTransitionKind::kPlain:
      break;
    case TzTransitionKind::kAbsoluteDate:
      name = "t:AbsoluteDateTransition";
      break;
    case TzTransitionKind::kRecurringDay:
      name = "t:RecurringDayTransition";
      break;
    case TzTransitionKind::kRecurringDate:
      name = "t:RecurringDateTransition";
      break;
  }
  pugi::xml_node node = parent.append_child(name);
  pugi::xml_node to = node.append_child("t:To");
  to.append_attribute("Kind").set_value(t.to_group ? "Group" : "Period");
  to.text().set(t.to.c_str());
  if (t.kind == TzTransitionKind::kAbsoluteDate) {
    node.append_child("t:DateTime").text().set(format_date_time(t.date_time).c_str());
  }
  if (t.kind == TzTransitionKind::kRecurringDay || t.kind == TzTransitionKind::kRecurringDate) {
    node.append_child("t:TimeOffset").text().set(format_duration(t.time_offset).c_str());
    node.append_child("t:Month").text().set(t.month);
  }
  if (t.kind == TzTransitionKind::kRecurringDay) {
    node.append_child("t:DayOfWeek").text().set(kWeekdays.at(t.day_of_week));
    node.append_child("t:Occurrence").text().set(t.occurrence);
  }
  if (t.kind == TzTransitionKind::kRecurringDate) {
    node.append_child("t:Day").text().set(t.day);
  }
}

}  // namespace

std::optional<TimeZoneDefinition> read_time_zone(const pugi::xml_node& element) {
  TimeZoneDefinition out;
  out.id = element.attribute("Id").as_string();
  out.name = element.attribute("Name").as_string();
  if (pugi::xml_node periods = child(element, "Periods")) {
    for (const pugi::xml_node period : periods.children()) {
      if (period.type() != pugi::node_element) continue;
      const auto bias = parse_duration(period.attribute("Bias").as_string());
      if (!bias) return std::nullopt;
      out.periods.push_back(TzPeriod{period.attribute("Id").as_string(),
                                     period.attribute("Name").as_string(), *bias});
    }
  }
  if (pugi::xml_node groups = child(element, "TransitionsGroups")) {
    for (const pugi::xml_node group : groups.children()) {
      if (group.type() != pugi::node_element) continue;
      TzGroup parsed;
      parsed.id = group.attribute("Id").as_string();
      if (!read_transitions(group, parsed.transitions)) return std::nullopt;
      out.groups.push_back(std::move(parsed));
    }
  }
  if (pugi::xml_node transitions = child(element, "Transitions")) {
    if (!read_transitions(transitions, out.transitions)) return std::nullopt;
  }
  return out;
}

void write_time_zone(pugi::xml_node& element, const TimeZoneDefinition& zone) {
  if (!zone.id.empty()) element.append_attribute("Id").set_value(zone.id.c_str());
  if (!zone.name.empty()) element.append_attribute("Name").set_value(zone.name.c_str());
  if (zone.periods.empty()) return;  // named by Id only
  pugi::xml_node periods = element.append_child("t:Periods");
  for (const TzPeriod& period : zone.periods) {
    pugi::xml_node node = periods.append_child("t:Period");
    node.append_attribute("Bias").set_value(format_duration(period.bias).c_str());
    node.append_attribute("Name").set_value(period.name.c_str());
    node.append_attribute("Id").set_value(period.id.c_str());
  }
  if (!zone.groups.empty()) {
    pugi::xml_node groups = element.append_child("t:TransitionsGroups");
    for (const TzGroup& group : zone.groups) {
      pugi::xml_node node = groups.append_child("t:TransitionsGroup");
      node.append_attribute("Id").set_value(group.id.c_str());
      for (const TzTransition& t : group.transitions) write_transition(node, t);
    }
  }
  if (!zone.transitions.empty()) {
    pugi::xml_node transitions = element.append_child("t:Transitions");
    for (const TzTransition& t : zone.transitions) write_transition(transitions, t);
  }
}

}  // namespace agendasync::ews
