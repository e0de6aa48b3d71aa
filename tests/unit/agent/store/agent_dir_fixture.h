// A fresh agent data directory (local KEK, agent.db) for unit tests.
#pragma once

#include <memory>

#include <gtest/gtest.h>

#include "agent/store/agent_dir.h"
#include "crypto/ctr_drbg.h"
#include "unit/temp_dir.h"

namespace skap::agent {

class AgentDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rng_ = std::move(*crypto::CtrDrbg::Create({}));
    auto store = AgentDir::Open(dir_.File("agent"), true, rng_.get());
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
  }

  testing::TempDir dir_;
  std::unique_ptr<crypto::CtrDrbg> rng_;
  std::unique_ptr<AgentDir> store_;
  std::int64_t now_ms_ = 1'700'000'000'000;
};

}  // namespace skap::agent
