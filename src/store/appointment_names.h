#pragma once
/// The stable names an appointment document stores its enums under, shared by the document's
/// writer and its readers (appointment_document.cpp, appointment_scan.cpp). Store-internal.
#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

#include "core/appointment.h"

namespace agendasync::store {

/// Stable storage names. Appending is fine; renaming breaks existing databases.
template <class Enum, std::size_t N>
struct NameTable {
  std::array<std::pair<Enum, const char*>, N> entries;

  const char* name(Enum value) const {
    for (const auto& [e, text] : entries) {
      if (e == value) return text;
    }
    return entries[0].second;
  }
  std::optional<Enum> parse(std::string_view text) const {
    for (const auto& [e, name] : entries) {
      if (text == name) return e;
    }
    return std::nullopt;
  }
};

inline constexpr NameTable<BodyType, 2> kBodyTypes{
    {{{BodyType::kText, "text"}, {BodyType::kHtml, "html"}}}};
inline constexpr NameTable<Sensitivity, 4> kSensitivities{
    {{{Sensitivity::kNormal, "normal"},
      {Sensitivity::kPersonal, "personal"},
      {Sensitivity::kPrivate, "private"},
      {Sensitivity::kConfidential, "confidential"}}}};
inline constexpr NameTable<ShowAs, 6> kShowAs{{{{ShowAs::kFree, "free"},
                                                {ShowAs::kTentative, "tentative"},
                                                {ShowAs::kBusy, "busy"},
                                                {ShowAs::kOutOfOffice, "oof"},
                                                {ShowAs::kWorkingElsewhere, "working-elsewhere"},
                                                {ShowAs::kUnknown, "unknown"}}}};
inline constexpr NameTable<ResponseStatus, 6> kResponses{
    {{{ResponseStatus::kNone, "none"},
      {ResponseStatus::kOrganizer, "organizer"},
      {ResponseStatus::kTentative, "tentative"},
      {ResponseStatus::kAccepted, "accepted"},
      {ResponseStatus::kDeclined, "declined"},
      {ResponseStatus::kNotResponded, "not-responded"}}}};
inline constexpr NameTable<AttendeeRole, 3> kRoles{{{{AttendeeRole::kRequired, "required"},
                                                     {AttendeeRole::kOptional, "optional"},
                                                     {AttendeeRole::kResource, "resource"}}}};
inline constexpr NameTable<Frequency, 4> kFrequencies{{{{Frequency::kDaily, "daily"},
                                                        {Frequency::kWeekly, "weekly"},
                                                        {Frequency::kMonthly, "monthly"},
                                                        {Frequency::kYearly, "yearly"}}}};

}  // namespace agendasync::store
