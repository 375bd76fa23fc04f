#include "core/time_zone.h"

#include <unicode/basictz.h>
#include <unicode/strenum.h>
#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <memory>
#include <string>
#include <unordered_map>

namespace agendasync {
namespace {

icu::UnicodeString to_icu(std::string_view text) {
  return icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
}

std::string from_icu(const icu::UnicodeString& text) {
  std::string out;
  text.toUTF8String(out);
  return out;
}

/// True when ICU's zone database knows `id` as a zone of its own (not a custom "GMT+3").
bool is_known_iana(std::string_view id) {
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString canonical;
  UBool is_system = false;
  icu::TimeZone::getCanonicalID(to_icu(id), canonical, is_system, status);
  return U_SUCCESS(status) && is_system;
}

std::unexpected<Error> unknown_zone(std::string_view id) {
  return fail(ErrorKind::kInvalidData,
              "unknown time zone '" + std::string(id) +
                  "': use an IANA zone id such as 'Europe/Amsterdam' or a Windows zone id such "
                  "as 'W. Europe Standard Time'");
}

/// Zone objects are costly to build and ICU does not promise that one instance may be used
/// from several threads, so each thread keeps its own cache.
Result<const icu::BasicTimeZone*> zone_for(std::string_view iana_id) {
  thread_local std::unordered_map<std::string, std::unique_ptr<icu::BasicTimeZone>> cache;
  auto found = cache.find(std::string(iana_id));
  if (found != cache.end()) return found->second.get();
  std::string resolved(iana_id);
  if (!is_known_iana(iana_id)) {
    // Windows ids are accepted too: they name a zone just as well (R18).
    auto from_windows = iana_from_windows(iana_id);
    if (!from_windows) return unknown_zone(iana_id);
    resolved = *from_windows;
  }
  std::unique_ptr<icu::TimeZone> zone(icu::TimeZone::createTimeZone(to_icu(resolved)));
  auto* basic = dynamic_cast<icu::BasicTimeZone*>(zone.get());
  if (basic == nullptr) return unknown_zone(iana_id);
  zone.release();
  // Only known ids reach the cache, so its size is bounded by the zone database.
  auto [slot, inserted] =
      cache.emplace(std::string(iana_id), std::unique_ptr<icu::BasicTimeZone>(basic));
  return slot->second.get();
}

std::string fold_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

/// Every IANA id ICU knows and every Windows id they map to, keyed by lowercase spelling.
/// Built once (thread-safe static initialisation), a few hundred entries.
const std::unordered_map<std::string, std::string>& ids_by_folded_case() {
  static const auto ids = [] {
    std::unordered_map<std::string, std::string> out;
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::StringEnumeration> all(
        icu::TimeZone::createTimeZoneIDEnumeration(UCAL_ZONE_TYPE_ANY, nullptr, nullptr, status));
    if (U_FAILURE(status) || !all) return out;
    while (const icu::UnicodeString* id = all->snext(status)) {
      if (U_FAILURE(status)) break;
      const std::string iana = from_icu(*id);
      out.emplace(fold_ascii(iana), iana);
      icu::UnicodeString windows;
      UErrorCode windows_status = U_ZERO_ERROR;
      icu::TimeZone::getWindowsID(*id, windows, windows_status);
      if (U_SUCCESS(windows_status) && !windows.isEmpty()) {
        out.emplace(fold_ascii(from_icu(windows)), from_icu(windows));
      }
    }
    return out;
  }();
  return ids;
}

UDate to_udate(std::chrono::seconds since_epoch) {
  return static_cast<UDate>(since_epoch.count()) * 1000.0;
}

std::chrono::seconds offset_seconds(int32_t raw_ms, int32_t dst_ms) {
  return std::chrono::seconds((static_cast<int64_t>(raw_ms) + dst_ms) / 1000);
}

}  // namespace

namespace {

/// ICU answers both mappings by searching its windowsZones resource linearly (~10^5
/// instructions a call), and every item read, written or fingerprinted asks (issue 14: a
/// third of a first sync's CPU). The answers are fixed data, so each thread remembers them:
/// only ids ICU knows are kept, so the cache is bounded by the zone database.
template <class Lookup>
Result<std::string> remembered(std::string key, Lookup lookup) {
  thread_local std::unordered_map<std::string, std::string> cache;
  if (auto found = cache.find(key); found != cache.end()) return found->second;
  auto answer = lookup();
  if (answer) cache.emplace(std::move(key), *answer);
  return answer;
}

}  // namespace

Result<std::string> iana_from_windows(std::string_view windows_id, std::string_view territory) {
  std::string region(territory.empty() ? "001" : territory);
  return remembered(std::string(windows_id) + '\n' + region, [&]() -> Result<std::string> {
    UErrorCode status = U_ZERO_ERROR;
    icu::UnicodeString iana;
    icu::TimeZone::getIDForWindowsID(to_icu(windows_id), region.c_str(), iana, status);
    if (U_FAILURE(status) || iana.isEmpty()) {
      return fail(ErrorKind::kInvalidData,
                  "unknown Windows time zone id '" + std::string(windows_id) +
                      "': expected an id from the CLDR windowsZones table such as 'W. Europe "
                      "Standard Time'");
    }
    return from_icu(iana);
  });
}

Result<std::string> windows_from_iana(std::string_view iana_id) {
  return remembered(std::string(iana_id) + "\niana", [&]() -> Result<std::string> {
    UErrorCode status = U_ZERO_ERROR;
    icu::UnicodeString windows;
    icu::TimeZone::getWindowsID(to_icu(iana_id), windows, status);
    if (U_FAILURE(status) || windows.isEmpty()) {
      return fail(ErrorKind::kInvalidData, "no Windows time zone id for '" + std::string(iana_id) +
                                               "': it is not an IANA zone id that CLDR maps to "
                                               "Windows (use e.g. 'Europe/Amsterdam')");
    }
    return from_icu(windows);
  });
}

Result<std::string> normalize_zone(std::string_view zone_id) {
  // An IANA id (alias or not) is kept as given: ICU's canonical ids are CLDR's, which
  // prefer outdated names ("Asia/Calcutta"), so rewriting would only surprise people.
  if (is_known_iana(zone_id)) return std::string(zone_id);
  auto from_windows = iana_from_windows(zone_id);
  if (from_windows) return from_windows;
  // Hand-typed ids ("europe/amsterdam", "w. europe standard time") get their proper case.
  const auto& ids = ids_by_folded_case();
  auto found = ids.find(fold_ascii(zone_id));
  if (found != ids.end()) return normalize_zone(found->second);
  return unknown_zone(zone_id);
}

Result<std::chrono::sys_seconds> to_utc(LocalTime local, std::string_view iana_zone) {
  auto zone = zone_for(iana_zone);
  if (!zone) return std::unexpected(zone.error());
  UErrorCode status = U_ZERO_ERROR;
  int32_t raw = 0;
  int32_t dst = 0;
  // kFormer for both cases: in a gap the offset before the jump moves the time forward by
  // the gap; in an overlap it picks the first (earlier) instant. RFC 5545 section 3.3.5.
  (*zone)->getOffsetFromLocal(to_udate(local.time_since_epoch()), UCAL_TZ_LOCAL_FORMER,
                              UCAL_TZ_LOCAL_FORMER, raw, dst, status);
  if (U_FAILURE(status)) {
    return fail(ErrorKind::kInvalidData,
                "cannot convert a local time in zone '" + std::string(iana_zone) + "' to UTC");
  }
  return std::chrono::sys_seconds(local.time_since_epoch() - offset_seconds(raw, dst));
}

Result<LocalTime> to_local(std::chrono::sys_seconds instant, std::string_view iana_zone) {
  auto offset = utc_offset(instant, iana_zone);
  if (!offset) return std::unexpected(offset.error());
  return LocalTime(instant.time_since_epoch() + *offset);
}

Result<std::chrono::seconds> utc_offset(std::chrono::sys_seconds instant,
                                        std::string_view iana_zone) {
  auto zone = zone_for(iana_zone);
  if (!zone) return std::unexpected(zone.error());
  UErrorCode status = U_ZERO_ERROR;
  int32_t raw = 0;
  int32_t dst = 0;
  (*zone)->getOffset(to_udate(instant.time_since_epoch()), false, raw, dst, status);
  if (U_FAILURE(status)) {
    return fail(ErrorKind::kInvalidData,
                "cannot compute the UTC offset in zone '" + std::string(iana_zone) + "'");
  }
  return offset_seconds(raw, dst);
}

}  // namespace agendasync
