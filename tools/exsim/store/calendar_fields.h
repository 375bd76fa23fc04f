#pragma once
/// The CalendarItem property table (one row per EWS field, in types.xsd order) and the code
/// it drives: writing an item for a response shape, and applying Set/Append/Delete of a field.
/// Reference: learn.microsoft.com/exchange/client-developer/web-service-reference/calendaritem
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "exsim/store/store.h"

namespace exsim {

/// How a field's value comes about.
enum class FieldSource {
  kStored,    // kept as the client set it (or a default when never set)
  kComputed,  // derived by the server; read-only for clients
  kExtended,  // the ExtendedProperty slot
};

/// One row of the table.
struct FieldSpec {
  std::string_view uri;      // FieldURI, e.g. "calendar:Start"
  std::string_view element;  // element name under CalendarItem
  FieldSource source;
  bool in_default_shape;
  std::string_view default_text;  // value written when a stored field was never set
};

const std::vector<FieldSpec>& calendar_fields();
const FieldSpec* field_by_uri(std::string_view uri);
const FieldSpec* field_by_element(std::string_view element);

/// The ItemShape / ResponseShape of a request.
struct ItemShape {
  enum class Base { kIdOnly, kDefault, kAllProperties } base = Base::kIdOnly;
  std::set<std::string> uris;              // AdditionalProperties FieldURI
  std::vector<std::string> extended_keys;  // AdditionalProperties ExtendedFieldURI keys
  static ItemShape parse(pugi::xml_node shape);
};

/// Normalised identity of an ExtendedFieldURI (set + name/id/tag + type).
std::string extended_key(pugi::xml_node extended_field_uri);

/// What to write: an item, or one occurrence of it.
struct ItemView {
  const Mailbox& mailbox;
  const StoredItem& item;
  std::optional<Seconds> original_start;  // set for an occurrence or exception
};

/// Appends <t:CalendarItem> for `view` in `shape` under `parent`.
void write_calendar_item(pugi::xml_node parent, const ItemView& view, const ItemShape& shape);
/// Appends <t:CalendarItem><t:ItemId .../></t:CalendarItem>.
void write_item_id_only(pugi::xml_node parent, const ItemView& view);
/// The value of a field as text for restrictions and sorting ("" when unset).
std::string field_text(const ItemView& view, std::string_view uri);
/// The text of an extended property's single value, if the item has it.
std::optional<std::string> extended_value(const StoredItem& item, std::string_view key);

/// Context for parsing wall-clock times that carry no offset.
struct TimeContext {
  Zone zone;                       // from the TimeZoneContext header, else UTC
  pugi::xml_node zone_definition;  // the header's TimeZoneDefinition, if any
};

/// Writes `element` (e.g. "t:StartTimeZone") as the full definition of Windows zone `id`
/// (periods and transitions, as Exchange returns it); false when the id is unknown.
bool write_full_time_zone(pugi::xml_node parent, const char* element, std::string_view id);

/// A failed property write: an EWS ResponseCode and a message.
struct FieldError {
  std::string code;
  std::string message;
};

/// Writes one property element (a child of a CalendarItem in the request) onto `item`, or onto
/// an occurrence override when `override_props` is given. `append` = AppendToItemField.
std::optional<FieldError> set_field(StoredItem& item, PropertyBag* override_props,
                                    OccurrenceOverride* occurrence, pugi::xml_node property,
                                    bool append, const TimeContext& tc);
/// DeleteItemField for a FieldURI or ExtendedFieldURI path element.
/// DeleteItemField. On an occurrence (`occurrence` set) the field is removed from that
/// occurrence only, as Exchange does: it becomes an exception without the value while the
/// series and its other occurrences keep theirs.
std::optional<FieldError> delete_field(StoredItem& item, pugi::xml_node path,
                                       OccurrenceOverride* occurrence = nullptr);
/// Checks the item after writes (End after Start, recurrence start) and fills defaults.
std::optional<FieldError> finish_item(StoredItem& item);

}  // namespace exsim
