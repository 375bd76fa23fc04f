#include "store/settings_names.h"

#include <string>

#include "store/agenda_store.h"

namespace agendasync::store {

const char* to_string(DeletedInExchange value) {
  switch (value) {
    case DeletedInExchange::kRecreate:
      return "recreate";
    case DeletedInExchange::kLeaveDeleted:
      return "leave-deleted";
  }
  return "?";
}

Result<DeletedInExchange> parse_deleted_in_exchange(std::string_view text) {
  for (auto value : {DeletedInExchange::kRecreate, DeletedInExchange::kLeaveDeleted}) {
    if (text == to_string(value)) return value;
  }
  return fail(ErrorKind::kInvalidData, "unknown deleted-in-Exchange behaviour \"" +
                                           std::string(text) + "\": use recreate or leave-deleted");
}

const char* to_string(ChangeEntity value) {
  return value == ChangeEntity::kAppointment ? "appointment" : "user";
}

const char* to_string(ChangeOp value) { return value == ChangeOp::kUpsert ? "upsert" : "delete"; }

}  // namespace agendasync::store
