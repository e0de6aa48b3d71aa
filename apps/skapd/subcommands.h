// skapd's subcommands, one file each; main.cc only registers them. Each
// Add* adds its subcommand to the app; its callback runs it and ends the
// program with its exit status (CLI::RuntimeError) when it fails.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "common/error.h"
#include "common/secret_bytes.h"

namespace skapd {

void AddInit(CLI::App& app);      // skapd init
void AddTenant(CLI::App& app);    // skapd tenant create
void AddOperator(CLI::App& app);  // skapd operator token
void AddRun(CLI::App& app);       // skapd run

// Fail prints `what` and `error` and ends the program with status 1.
[[noreturn]] void Fail(const std::string& what, const skap::Error& error);
// WriteToken writes an operator's token, with a newline, to a new file of
// mode 0600 at `path` ('-': stdout), or fails.
void WriteToken(const std::string& path, skap::SecretBytes token);

}  // namespace skapd
