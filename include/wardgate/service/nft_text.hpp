#pragma once
// The nft text form of one inet table through libnftables: what `nft -s list table inet T`
// prints, and putting such a text back in one transaction.
#include <optional>
#include <string>

namespace wardgate::service {

// The stateless listing (no counter values), or nullopt when the table does not exist.
// Throws std::runtime_error with nft's message on any other failure.
std::optional<std::string> list_table_text(const std::string& table = "wardgate");

// Replaces the table with `text` (a listing from list_table_text), or deletes it when text
// is nullopt, in one transaction: "table inet T; delete table inet T; <text>". Other tables
// are never touched. dry_run: the kernel validates the transaction and aborts it.
// Throws std::runtime_error with nft's message when refused.
void restore_table_text(const std::string& table, const std::optional<std::string>& text, bool dry_run = false);

}  // namespace wardgate::service
