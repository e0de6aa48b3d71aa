// WriteQueue sends byte buffers on one socket in the order given, one
// async_write at a time (Asio allows no more): the TLS connections of the
// hub link and of the direct peer link both queue their ciphertext here.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

namespace skap::net {

class WriteQueue {
 public:
  // Push queues `bytes` for `socket`. `owner` holds this queue and the
  // socket; it stays alive until the writes end, and is closed (its
  // Close()) when one fails.
  template <class Owner>
  void Push(const std::shared_ptr<Owner>& owner, boost::asio::ip::tcp::socket& socket,
            std::vector<std::uint8_t> bytes) {
    out_.push_back(std::move(bytes));
    if (!writing_) WriteNext(owner, socket);
  }

 private:
  template <class Owner>
  void WriteNext(std::shared_ptr<Owner> owner, boost::asio::ip::tcp::socket& socket) {
    writing_ = true;
    boost::asio::async_write(
        socket, boost::asio::buffer(out_.front()),
        [this, owner, &socket](boost::system::error_code ec, std::size_t /*written*/) {
          out_.pop_front();
          if (ec) {
            writing_ = false;
            return owner->Close();
          }
          if (out_.empty()) {
            writing_ = false;
          } else {
            WriteNext(owner, socket);
          }
        });
  }

  std::deque<std::vector<std::uint8_t>> out_;
  bool writing_ = false;
};

}  // namespace skap::net
