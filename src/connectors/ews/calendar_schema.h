#pragma once
/// The CalendarItem schema as one table (STYLE.md "Protocol schemas as tables"): per field
/// the EWS FieldURI, the element name, the minimum server version, whether we may write it,
/// and its codec. The same table drives the reader, the CreateItem writer, the
/// AdditionalProperties list of GetItem and the SetItemField/DeleteItemField list of
/// UpdateItem, so a field is added in exactly one place.
/// Reference:
/// https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/fielduri
#include <span>
#include <string_view>

#include <pugixml.hpp>

#include "connectors/ews/calendar_item.h"
#include "connectors/ews/version.h"
#include "core/error.h"

namespace agendasync::ews {

/// Our idempotency-key extended property (R28): a fixed property set GUID of our own and the
/// name "AgendaSyncKey", type String.
inline constexpr const char* kKeyPropertySetId = "6f1c3a52-8d0e-4b7a-9e21-4a5c0d7b9e13";
inline constexpr const char* kKeyPropertyName = "AgendaSyncKey";

/// Appends the idempotency key's ExtendedFieldURI (its property set, name and type) to `parent`.
void append_key_field_uri(pugi::xml_node parent);

enum class FieldAccess { kReadWrite, kReadOnly };

struct FieldSpec {
  /// "item:Subject"; empty for the extended property (addressed by ExtendedFieldURI).
  std::string_view field_uri;
  std::string_view element;  ///< element name inside t:CalendarItem
  ServerVersion min_version;
  FieldAccess access;
  /// Reads the element into the item; false when its content is malformed.
  bool (*read)(const pugi::xml_node& element, CalendarItem& item);
  /// Appends the element (t: prefix) for the item's value to `parent`.
  void (*write)(pugi::xml_node& parent, const CalendarItem& item);
  /// Whether the item has a value worth writing (an empty subject is "no subject").
  bool (*has_value)(const CalendarItem& item);
  /// Whether two items hold the same value of this field.
  bool (*same)(const CalendarItem& a, const CalendarItem& b);
};

/// Every field, in the element order types.xsd requires inside CalendarItem.
std::span<const FieldSpec> calendar_fields();

/// Reads a t:CalendarItem element (unknown children are ignored). kInvalidData names the
/// field whose value is malformed.
Result<CalendarItem> read_calendar_item(const pugi::xml_node& element);

/// Appends a t:CalendarItem for CreateItem: the writable fields that have a value.
void write_calendar_item(pugi::xml_node& parent, const CalendarItem& item, ServerVersion version);

/// Appends the t:FieldURI / t:ExtendedFieldURI of every field to an AdditionalProperties node.
void write_additional_properties(pugi::xml_node& parent, ServerVersion version);

/// Appends SetItemField / DeleteItemField for each writable field that differs between
/// `before` and `after` to an t:Updates node; returns how many it wrote.
int write_field_updates(pugi::xml_node& updates, const CalendarItem& before,
                        const CalendarItem& after, ServerVersion version);

/// Appends a SetItemField for every writable field `item` has a value for (an update whose
/// previous state is unknown); returns how many it wrote.
int write_all_fields(pugi::xml_node& updates, const CalendarItem& item, ServerVersion version);

/// Whether any writable field differs (an UpdateItem change needs at least one update).
bool has_field_changes(const CalendarItem& before, const CalendarItem& after,
                       ServerVersion version);

/// Appends the path (t:FieldURI or t:ExtendedFieldURI) that addresses `field`.
void write_field_path(pugi::xml_node& parent, const FieldSpec& field);

}  // namespace agendasync::ews
