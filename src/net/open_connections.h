// The connections a server has open, so that stopping it closes every one.
// The server's coroutines own the connections; this only watches them.
#pragma once

#include <cstddef>
#include <list>
#include <memory>

namespace skap::net {

// Connection needs a Close() that ends it (and wakes whatever waits on it).
template <typename Connection>
class OpenConnections {
 public:
  void Add(const std::shared_ptr<Connection>& connection) {
    open_.remove_if([](const std::weak_ptr<Connection>& w) { return w.expired(); });
    open_.push_back(connection);
  }
  // Count is how many are open.
  std::size_t Count() {
    open_.remove_if([](const std::weak_ptr<Connection>& w) { return w.expired(); });
    return open_.size();
  }
  void CloseAll() {
    for (auto& weak : open_) {
      if (auto c = weak.lock()) c->Close();
    }
    open_.clear();
  }

 private:
  std::list<std::weak_ptr<Connection>> open_;
};

}  // namespace skap::net
