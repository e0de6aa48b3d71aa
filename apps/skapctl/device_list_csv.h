// The input of bulk provisioning: a CSV file (RFC 4180 quoting) with a header
// row naming a `name` column and, optionally, a `can_provision` column
// (true/false, yes/no, 1/0).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace skap::ctl {

struct DeviceToProvision {
  std::string name;
  bool can_provision = false;
  unsigned line = 0;  // in the CSV file, for messages
};

// ReadDeviceListCsv reads and checks the whole file first, so a bad row
// stops the run before any device is made. Duplicate names are refused.
Result<std::vector<DeviceToProvision>> ReadDeviceListCsv(const std::string& path);

}  // namespace skap::ctl
