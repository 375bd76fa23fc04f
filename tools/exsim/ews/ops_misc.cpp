// ResolveNames, ConvertId and GetServerTimeZones.
// References: learn.microsoft.com/exchange/client-developer/web-service-reference/resolvenames,
// .../convertid, .../getservertimezones
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "exsim/ews/operation.h"
#include "exsim/store/xml_util.h"

namespace exsim {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string to_hex(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) out += fmt::format("{:02X}", c);
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned v = 0;
    if (std::sscanf(std::string(hex.substr(i, 2)).c_str(), "%02X", &v) != 1) return std::nullopt;
    out.push_back(static_cast<char>(v));
  }
  return out;
}

}  // namespace

void handle_resolve_names(OperationContext& ctx) {
  pugi::xml_node messages = ctx.response.begin("ResolveNames");
  std::string entry = lower(child_text(ctx.request, "UnresolvedEntry"));
  if (entry.starts_with("smtp:")) entry = entry.substr(5);
  std::vector<const Mailbox*> found;
  for (const auto& mb : ctx.store.mailboxes()) {
    std::string addr = lower(mb->address);
    std::string name = lower(mb->display_name);
    if (!entry.empty() && (addr == entry || addr.starts_with(entry) || name.starts_with(entry))) {
      found.push_back(mb.get());
    }
  }
  if (found.empty()) {
    add_response_message(messages, "ResolveNamesResponseMessage", "ErrorNameResolutionNoResults",
                         "No results were found.");
    return;
  }
  pugi::xml_node msg = add_response_message(messages, "ResolveNamesResponseMessage");
  if (found.size() > 1) {
    msg.attribute("ResponseClass").set_value("Warning");
    msg.remove_child(child(msg, "ResponseCode"));
    add_text(msg, "m:MessageText", "Multiple results were found.");
    add_text(msg, "m:ResponseCode", "ErrorNameResolutionMultipleResults");
    add_text(msg, "m:DescriptiveLinkKey", "0");
  }
  pugi::xml_node set = msg.append_child("m:ResolutionSet");
  set.append_attribute("TotalItemsInView") = static_cast<unsigned>(found.size());
  set.append_attribute("IncludesLastItemInRange") = "true";
  for (const Mailbox* mb : found) {
    pugi::xml_node m = set.append_child("t:Resolution").append_child("t:Mailbox");
    add_text(m, "t:Name", mb->display_name);
    add_text(m, "t:EmailAddress", mb->address);
    add_text(m, "t:RoutingType", "SMTP");
    add_text(m, "t:MailboxType", "Mailbox");
  }
}

void handle_convert_id(OperationContext& ctx) {
  pugi::xml_node messages = ctx.response.begin("ConvertId");
  std::string dest = ctx.request.attribute("DestinationFormat").as_string();
  for (pugi::xml_node src : element_children(child(ctx.request, "SourceIds"))) {
    std::string format = src.attribute("Format").as_string();
    std::string id = src.attribute("Id").as_string();
    std::string mailbox = src.attribute("Mailbox").as_string();
    if (mailbox.find('@') == std::string::npos) {
      add_response_message(messages, "ConvertIdResponseMessage", "ErrorInvalidSmtpAddress",
                           "The SMTP address format is invalid.");
      continue;
    }
    // Every format is a spelling of the same bytes: EwsId/EwsLegacyId/OwaId are base64,
    // EntryId is base64 and HexEntryId hex of the entry id.
    std::optional<std::string> raw;
    if (format == "HexEntryId")
      raw = from_hex(id);
    else
      raw = base64_decode(id);
    if (!raw || !decode_item_id(base64_encode(*raw))) {
      add_response_message(messages, "ConvertIdResponseMessage", "ErrorInvalidIdMalformed",
                           "Id is malformed.");
      continue;
    }
    pugi::xml_node msg = add_response_message(messages, "ConvertIdResponseMessage");
    pugi::xml_node out = msg.append_child("m:AlternateId");
    out.append_attribute("xmlns:xsi") = "http://www.w3.org/2001/XMLSchema-instance";
    out.append_attribute("xsi:type") = "t:AlternateIdType";
    out.append_attribute("Format") = dest.c_str();
    out.append_attribute("Id") =
        (dest == "HexEntryId" ? to_hex(*raw) : base64_encode(*raw)).c_str();
    out.append_attribute("Mailbox") = mailbox.c_str();
  }
}

}  // namespace exsim
