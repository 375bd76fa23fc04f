#pragma once
/// Text names for the one organisation setting core has no names for yet.
/// TODO(core): move to core/settings.h next to parse_sync_direction.
#include <string_view>

#include "core/error.h"
#include "core/settings.h"

namespace agendasync::store {

/// "recreate" | "leave-deleted"
const char* to_string(DeletedInExchange value);
Result<DeletedInExchange> parse_deleted_in_exchange(std::string_view text);

}  // namespace agendasync::store
