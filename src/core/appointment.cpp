#include "core/appointment.h"

namespace agendasync {

// Stable lowercase names: they appear in logs, the canonical form and the API.

const char* to_string(Sensitivity value) {
  switch (value) {
    case Sensitivity::kNormal:
      return "normal";
    case Sensitivity::kPersonal:
      return "personal";
    case Sensitivity::kPrivate:
      return "private";
    case Sensitivity::kConfidential:
      return "confidential";
  }
  return "unknown";
}

const char* to_string(ShowAs value) {
  switch (value) {
    case ShowAs::kFree:
      return "free";
    case ShowAs::kTentative:
      return "tentative";
    case ShowAs::kBusy:
      return "busy";
    case ShowAs::kOutOfOffice:
      return "out-of-office";
    case ShowAs::kWorkingElsewhere:
      return "working-elsewhere";
    case ShowAs::kUnknown:
      return "unknown";
  }
  return "unknown";
}

const char* to_string(BodyType value) {
  switch (value) {
    case BodyType::kText:
      return "text";
    case BodyType::kHtml:
      return "html";
  }
  return "unknown";
}

const char* to_string(ResponseStatus value) {
  switch (value) {
    case ResponseStatus::kNone:
      return "none";
    case ResponseStatus::kOrganizer:
      return "organizer";
    case ResponseStatus::kTentative:
      return "tentative";
    case ResponseStatus::kAccepted:
      return "accepted";
    case ResponseStatus::kDeclined:
      return "declined";
    case ResponseStatus::kNotResponded:
      return "not-responded";
  }
  return "unknown";
}

const char* to_string(AttendeeRole value) {
  switch (value) {
    case AttendeeRole::kRequired:
      return "required";
    case AttendeeRole::kOptional:
      return "optional";
    case AttendeeRole::kResource:
      return "resource";
  }
  return "unknown";
}

}  // namespace agendasync
