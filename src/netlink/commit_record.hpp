#pragma once
// The table this host's last commit installed, kept in a file so that a later process
// (the next `wardgate apply`) can send an element delta without reading 100k elements
// back. It is only trusted while the kernel's ruleset generation and network namespace
// are the ones it names; the generation id in the batch guards the rest.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "model.hpp"

namespace wardgate::netlink::detail {

void save_commit_record(const std::filesystem::path& file, uint64_t netns, uint32_t genid, const TableModel& model);
// nullptr when absent, unreadable, or about another namespace, table or generation.
std::shared_ptr<const TableModel> load_commit_record(const std::filesystem::path& file, uint64_t netns,
                                                     const std::string& table, uint32_t genid);

}  // namespace wardgate::netlink::detail
