#include "store/settings_names.h"

#include <string>

#include "store/agenda_store.h"

namespace agendasync::store {

const char* to_string(ChangeEntity value) {
  return value == ChangeEntity::kAppointment ? "appointment" : "user";
}

const char* to_string(ChangeOp value) { return value == ChangeOp::kUpsert ? "upsert" : "delete"; }

}  // namespace agendasync::store
