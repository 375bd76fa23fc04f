#pragma once
/// Text names of the store's own enums (the settings' names live in core/settings.h).
#include <string_view>

#include "core/error.h"
#include "core/settings.h"

namespace agendasync::store {

using agendasync::parse_deleted_in_exchange;

}  // namespace agendasync::store
