#pragma once
/// XML plumbing for the EWS connector: safe parsing of untrusted responses, namespace-prefix
/// agnostic lookups, and the EWS text codecs (xs:dateTime, xs:date, xs:duration, booleans).
/// pugixml is used only inside this folder; nothing here leaks a DOM to callers.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <pugixml.hpp>

#include "core/error.h"

namespace agendasync::ews {

inline constexpr const char* kSoapNs = "http://schemas.xmlsoap.org/soap/envelope/";
inline constexpr const char* kTypesNs = "http://schemas.microsoft.com/exchange/services/2006/types";
inline constexpr const char* kMessagesNs =
    "http://schemas.microsoft.com/exchange/services/2006/messages";

/// Parses text from the network. DOCTYPE declarations are refused outright (no DTD, so no
/// entity expansion of any kind); malformed XML is kInvalidData naming `what`.
Result<void> parse_untrusted(pugi::xml_document& doc, std::string_view text, std::string_view what);

/// The element name without its namespace prefix ("t:ItemId" -> "ItemId"). EWS servers and
/// the documentation use different prefixes for the same namespaces, so we match local names.
std::string_view local_name(const pugi::xml_node& node);
/// The first child element with this local name, or an empty node.
pugi::xml_node child(const pugi::xml_node& node, std::string_view name);
/// The first descendant element (depth-first) with this local name, or an empty node.
pugi::xml_node descendant(const pugi::xml_node& node, std::string_view name);
/// Text content of a child element ("" when absent).
std::string child_text(const pugi::xml_node& node, std::string_view name);

/// xs:dateTime -> UTC instant. Accepts "Z", "+hh:mm"/"-hh:mm" and fractional seconds; a value
/// without a zone is read as UTC (what EWS sends when no TimeZoneContext is given).
std::optional<std::chrono::sys_seconds> parse_date_time(std::string_view text);
/// UTC instant -> "YYYY-MM-DDThh:mm:ssZ".
std::string format_date_time(std::chrono::sys_seconds instant);
/// xs:date (an optional zone suffix is ignored: EWS recurrence dates are local dates).
std::optional<std::chrono::year_month_day> parse_date(std::string_view text);
std::string format_date(std::chrono::year_month_day date);
/// xs:duration as used by EWS time zones and offsets ("-PT60M", "P0DT8H0M0.0S").
std::optional<std::chrono::minutes> parse_duration(std::string_view text);
std::string format_duration(std::chrono::minutes value);
/// xs:boolean: "true"/"1" and "false"/"0".
std::optional<bool> parse_bool(std::string_view text);
std::optional<int> parse_int(std::string_view text);

}  // namespace agendasync::ews
