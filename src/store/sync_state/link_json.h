#pragma once
/// A link as the JSON text a journal entry keeps of it (`pending`), and an audit record's
/// changes, shared by the SQLite and PostgreSQL sync states so both mean the same.
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "sync/fields.h"
#include "sync/link_record.h"

namespace agendasync::store {

std::string link_to_json(const sync::LinkRecord& link);
/// The same with the base's document already written (to_document(link.base)).
std::string link_to_json(const sync::LinkRecord& link, std::string_view base_document);
/// kInvalidData, saying how to recover, when the text is damaged.
Result<sync::LinkRecord> link_from_json(std::string_view text);

/// An audit record's field changes as stored (`sync_audit.changes`): [[field, before, after],
/// ...], the text nlohmann's tree wrote for them, without building the tree.
std::string audit_changes_json(const std::vector<sync::FieldChange>& changes);

/// The side codes stored in every sync table (0 host, 1 remote).
std::int64_t side_code(sync::Side side);
sync::Side side_from(std::int64_t code);

}  // namespace agendasync::store
