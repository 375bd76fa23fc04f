#include "connectors/ews/responses.h"

#include <pugixml.hpp>

#include "connectors/ews/calendar_schema.h"
#include "connectors/ews/xml.h"

namespace agendasync::ews {

namespace {

ItemId read_item_id(const pugi::xml_node& node) {
  return ItemId{node.attribute("Id").as_string(), node.attribute("ChangeKey").as_string()};
}

std::optional<std::chrono::milliseconds> read_back_off(const pugi::xml_node& message_xml) {
  for (const pugi::xml_node value : message_xml.children()) {
    if (local_name(value) == "Value" &&
        std::string_view(value.attribute("Name").as_string()) == "BackOffMilliseconds") {
      const auto ms = parse_int(value.text().as_string());
      if (ms && *ms >= 0) return std::chrono::milliseconds{*ms};
    }
  }
  return std::nullopt;
}

/// Items under an Items element: calendar items fully, anything else by id only.
Result<void> read_items(const pugi::xml_node& items, ResponseMessage& out) {
  for (const pugi::xml_node item : items.children()) {
    if (item.type() != pugi::node_element) continue;
    if (local_name(item) == "CalendarItem") {
      auto parsed = read_calendar_item(item);
      if (!parsed) return std::unexpected(parsed.error());
      out.items.push_back(std::move(*parsed));
    } else if (pugi::xml_node id = child(item, "ItemId")) {
      out.other_item_ids.push_back(read_item_id(id));
    }
  }
  return {};
}

void read_changes(const pugi::xml_node& changes, ResponseMessage& out) {
  for (const pugi::xml_node change : changes.children()) {
    if (change.type() != pugi::node_element) continue;
    const std::string_view name = local_name(change);
    ItemChangeEvent event;
    if (name == "Create") {
      event.kind = ChangeKind::kCreate;
    } else if (name == "Update") {
      event.kind = ChangeKind::kUpdate;
    } else if (name == "Delete") {
      event.kind = ChangeKind::kDelete;
    } else if (name == "ReadFlagChange") {
      event.kind = ChangeKind::kReadFlag;
    } else {
      continue;
    }
    // Create/Update wrap the item (<t:CalendarItem><t:ItemId/>); Delete has the id directly.
    pugi::xml_node id = child(change, "ItemId");
    if (!id) {
      for (const pugi::xml_node item : change.children()) {
        if (item.type() == pugi::node_element && (id = child(item, "ItemId"))) break;
      }
    }
    if (!id) continue;
    event.item_id = read_item_id(id);
    out.changes.push_back(std::move(event));
  }
}

void read_notifications(const pugi::xml_node& notifications, ResponseMessage& out) {
  for (const pugi::xml_node notification : notifications.children()) {
    if (notification.type() != pugi::node_element) continue;
    const std::string subscription = child_text(notification, "SubscriptionId");
    if (out.subscription_id.empty()) out.subscription_id = subscription;
    for (const pugi::xml_node event : notification.children()) {
      if (event.type() != pugi::node_element) continue;
      const std::string_view name = local_name(event);
      if (!name.ends_with("Event")) continue;
      NotificationEvent parsed;
      parsed.type = std::string(name);
      parsed.subscription_id = subscription;
      if (pugi::xml_node id = child(event, "ItemId")) parsed.item_id = read_item_id(id);
      if (const std::string watermark = child_text(event, "Watermark"); !watermark.empty())
        out.watermark = watermark;
      out.notifications.push_back(std::move(parsed));
    }
  }
}

Result<ResponseMessage> read_message(const pugi::xml_node& node) {
  ResponseMessage out;
  out.element = std::string(local_name(node));
  out.response_class = node.attribute("ResponseClass").as_string();
  out.response_code = child_text(node, "ResponseCode");
  out.message_text = child_text(node, "MessageText");
  if (pugi::xml_node xml = child(node, "MessageXml")) out.back_off = read_back_off(xml);
  if (out.response_code.empty()) out.response_code = out.ok() ? "NoError" : "";
  for (const pugi::xml_node e : node.children()) {
    if (e.type() != pugi::node_element) continue;
    const std::string_view name = local_name(e);
    if (name == "Items") {
      if (auto r = read_items(e, out); !r) return std::unexpected(r.error());
    } else if (name == "RootFolder") {
      const std::string_view last = e.attribute("IncludesLastItemInRange").as_string();
      if (!last.empty()) out.includes_last_item_in_range = parse_bool(last).value_or(true);
      out.total_items_in_view = e.attribute("TotalItemsInView").as_int();
      if (pugi::xml_node items = child(e, "Items")) {
        if (auto r = read_items(items, out); !r) return std::unexpected(r.error());
      }
    } else if (name == "SyncState") {
      out.sync_state = e.text().as_string();
    } else if (name == "IncludesLastItemInRange") {
      out.includes_last_item_in_range = parse_bool(e.text().as_string());
    } else if (name == "Changes") {
      read_changes(e, out);
    } else if (name == "SubscriptionId") {
      out.subscription_id = e.text().as_string();
    } else if (name == "Watermark") {
      out.watermark = e.text().as_string();
    } else if (name == "Notifications") {
      read_notifications(e, out);
    } else if (name == "ConnectionStatus") {
      out.connection_status = e.text().as_string();
    } else if (name == "ErrorSubscriptionIds") {
      for (const pugi::xml_node id : e.children()) {
        if (id.type() == pugi::node_element && local_name(id) == "SubscriptionId")
          out.error_subscription_ids.push_back(id.text().as_string());
      }
    }
  }
  return out;
}

ResponseMessage read_fault(const pugi::xml_node& fault) {
  ResponseMessage out;
  out.element = "Fault";
  out.response_class = "Error";
  out.message_text = child_text(fault, "faultstring");
  const pugi::xml_node detail = child(fault, "detail");
  out.response_code = child_text(detail, "ResponseCode");
  if (out.response_code.empty()) {
    // faultcode is "t:ErrorServerBusy" or "a:ErrorSchemaValidation"; drop the prefix.
    std::string code = child_text(fault, "faultcode");
    if (const auto colon = code.find(':'); colon != std::string::npos) code.erase(0, colon + 1);
    out.response_code = code;
  }
  if (const std::string message = child_text(detail, "Message"); !message.empty())
    out.message_text = message;
  if (pugi::xml_node xml = child(detail, "MessageXml")) out.back_off = read_back_off(xml);
  return out;
}

}  // namespace

Result<SoapResponse> parse_response(std::string_view text) {
  pugi::xml_document doc;
  if (auto parsed = parse_untrusted(doc, text, "EWS response"); !parsed)
    return std::unexpected(parsed.error());
  const pugi::xml_node envelope = doc.document_element();
  // Some documentation (and logging proxies) show the operation response without its
  // envelope; it carries everything we need.
  if (local_name(envelope).ends_with("Response") && child(envelope, "ResponseMessages")) {
    SoapResponse bare;
    bare.operation = std::string(local_name(envelope));
    for (const pugi::xml_node message : child(envelope, "ResponseMessages").children()) {
      if (message.type() != pugi::node_element) continue;
      auto parsed = read_message(message);
      if (!parsed) return std::unexpected(parsed.error());
      bare.messages.push_back(std::move(*parsed));
    }
    return bare;
  }
  if (local_name(envelope) != "Envelope") {
    return fail(ErrorKind::kInvalidData,
                "The EWS response is not a SOAP envelope; check that the EWS URL ends in "
                "/EWS/Exchange.asmx.");
  }
  SoapResponse out;
  if (pugi::xml_node header = child(envelope, "Header")) {
    if (pugi::xml_node info = child(header, "ServerVersionInfo")) {
      out.server_version = ServerVersionInfo{
          info.attribute("MajorVersion").as_int(), info.attribute("MinorVersion").as_int(),
          info.attribute("MajorBuildNumber").as_int(), info.attribute("MinorBuildNumber").as_int(),
          info.attribute("Version").as_string()};
    }
  }
  const pugi::xml_node body = child(envelope, "Body");
  if (!body) return fail(ErrorKind::kInvalidData, "The EWS response has no SOAP body.");
  pugi::xml_node operation;
  for (pugi::xml_node e = body.first_child(); e; e = e.next_sibling()) {
    if (e.type() == pugi::node_element) {
      operation = e;
      break;
    }
  }
  if (!operation) return fail(ErrorKind::kInvalidData, "The EWS response body is empty.");
  out.operation = std::string(local_name(operation));
  if (out.operation == "Fault") {
    out.fault = read_fault(operation);
    return out;
  }
  const pugi::xml_node messages = child(operation, "ResponseMessages");
  for (const pugi::xml_node message : messages.children()) {
    if (message.type() != pugi::node_element) continue;
    auto parsed = read_message(message);
    if (!parsed) return std::unexpected(parsed.error());
    out.messages.push_back(std::move(*parsed));
  }
  return out;
}

}  // namespace agendasync::ews
