#pragma once
/// The host agenda of scenario 1 (and the peer's copy of it): a realistic mix of
/// appointments. Every 5th is a weekly series of 10 with one moved and renamed occurrence and
/// one deleted occurrence (20% recurring with exceptions); every 10th (offset 1) is all-day;
/// every 10th (offset 2) is private; every 4th (offset 3) has two participants. All carry a
/// body, a location and a reminder, in Europe/Amsterdam.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/appointment.h"

namespace agendasync::bench {

/// The two host users who take part in the multi-participant items (not synced themselves).
inline const std::vector<std::string> kColleagues{"colleague1", "colleague2"};

/// `count` appointments owned by `owner`, starting the day after `today` and spread over a year:
/// items number `first` to `first + count - 1` of the mix, so a large agenda can be made in
/// chunks without holding all of it (the first-sync benchmark measures the sync's memory).
std::vector<Appointment> realistic_mix(int count, const std::string& owner, Instant today,
                                       int first = 0);

/// The same items as plain JSON for the exchangelib peer (bench/peer/exchangelib_peer.py):
/// subject, body, location, start/end (UTC, or dates for all-day), all_day, sensitivity,
/// reminder_minutes, attendees (addresses), and for series: weekly count, the 1-based index
/// of the moved occurrence with its new subject and shift, and of the deleted occurrence.
nlohmann::json to_peer_json(const std::vector<Appointment>& items, const std::string& domain);

}  // namespace agendasync::bench
