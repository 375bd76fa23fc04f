#pragma once
/// A value that must never reach a log line or an API response (R9).
#include <ostream>
#include <string>
#include <utility>

namespace agendasync {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  /// The only way to the plain value; grep for it in reviews.
  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  bool operator==(const Secret&) const = default;
  friend std::ostream& operator<<(std::ostream& out, const Secret&) { return out << "***"; }

 private:
  std::string value_;
};

}  // namespace agendasync
