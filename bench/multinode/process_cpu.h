#pragma once
/// CPU time of other processes (the serve nodes, the PostgreSQL server) from /proc/<pid>/stat.
#include <sys/types.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace agendasync::bench {

struct ProcStat {
  pid_t ppid = 0;
  long long own_ticks = 0;       ///< utime + stime
  long long children_ticks = 0;  ///< cutime + cstime: children it already waited for
};

/// nullopt when the process is gone.
inline std::optional<ProcStat> proc_stat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos || close + 2 > text.size()) return std::nullopt;
  std::istringstream fields(text.substr(close + 2));
  std::vector<std::string> f;
  for (std::string field; fields >> field;) f.push_back(field);
  // After "pid (comm) ": state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
  if (f.size() < 15) return std::nullopt;
  return ProcStat{static_cast<pid_t>(std::stol(f[1])), std::stoll(f[11]) + std::stoll(f[12]),
                  std::stoll(f[13]) + std::stoll(f[14])};
}

inline double ticks_to_seconds(long long ticks) {
  return static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace agendasync::bench
