#include "apps/skapctl/device_list_csv.h"

#include <algorithm>
#include <set>

// libfccp (Debian libfccp-dev): a header-only CSV reader. No reader thread:
// the files are small, and skapctl stays single-threaded.
#define CSV_IO_NO_THREAD
#include <libfccp/csv.h>

namespace skap::ctl {
namespace {

Result<bool> ParseFlag(std::string text, const std::string& where) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (text.empty() || text == "false" || text == "no" || text == "0") return false;
  if (text == "true" || text == "yes" || text == "1") return true;
  return Unexpected(ErrorCode::kInvalidArgument,
                    where + ": can_provision must be true/false, yes/no or 1/0");
}

}  // namespace

Result<std::vector<DeviceToProvision>> ReadDeviceListCsv(const std::string& path) {
  std::vector<DeviceToProvision> out;
  std::set<std::string> seen;
  try {
    io::CSVReader<2, io::trim_chars<' ', '\t'>, io::double_quote_escape<',', '"'>> reader(path);
    reader.read_header(io::ignore_missing_column | io::ignore_extra_column, "name",
                       "can_provision");
    if (!reader.has_column("name")) {
      return Unexpected(ErrorCode::kInvalidArgument, path + ": no 'name' column in the header");
    }
    std::string name;
    std::string flag;
    while (reader.read_row(name, flag)) {
      const unsigned line = reader.get_file_line();
      const std::string where = path + ":" + std::to_string(line);
      if (name.empty()) return Unexpected(ErrorCode::kInvalidArgument, where + ": empty name");
      if (!seen.insert(name).second) {
        return Unexpected(ErrorCode::kInvalidArgument, where + ": '" + name + "' appears twice");
      }
      SKAP_ASSIGN_OR_RETURN(const bool can_provision, ParseFlag(flag, where));
      out.push_back({name, can_provision, line});
      flag.clear();
    }
  } catch (const io::error::base& e) {
    return Unexpected(ErrorCode::kMalformedInput, e.what());
  }
  if (out.empty()) return Unexpected(ErrorCode::kInvalidArgument, path + ": no devices listed");
  return out;
}

}  // namespace skap::ctl
