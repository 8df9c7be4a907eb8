#pragma once
// Reads wardgate's table back from the kernel into the same model the batch is built
// from: chains, set definitions, elements (anonymous sets included), rules.
#include <string>
#include <vector>

#include "model.hpp"
#include "nftnl_ptr.hpp"
#include "socket.hpp"

namespace wardgate::netlink::detail {

uint32_t read_genid(NfSocket& sock);
bool table_exists(NfSocket& sock, const std::string& table);
// The whole table; retried when a concurrent change interrupts a dump.
TableModel read_table(NfSocket& sock, const std::string& table);

// Every rule of the table, as the kernel dumps it (counters included), in chain order.
struct LiveRule {
    std::string chain;
    RulePtr rule;
};
std::vector<LiveRule> read_rules(NfSocket& sock, const std::string& table);

}  // namespace wardgate::netlink::detail
