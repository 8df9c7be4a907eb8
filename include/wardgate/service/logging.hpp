#pragma once
// spdlog to stderr without colours. Under systemd (JOURNAL_STREAM set) each line starts
// with its syslog priority ("<4>...") and carries no timestamp: journald adds both.
namespace wardgate::service {

void setup_logging();

}  // namespace wardgate::service
