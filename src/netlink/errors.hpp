#pragma once
// The kernel's per-message errors in words: which object, what went wrong, what it means.
#include <string>
#include <vector>

#include "batch.hpp"
#include "socket.hpp"
#include "wardgate/netlink/nft_apply.hpp"

namespace wardgate::netlink::detail {

KernelError describe_error(const Batch& batch, const Ack& ack, uint32_t genid);
std::string summarize(const std::vector<KernelError>& errors, bool dry_run);

}  // namespace wardgate::netlink::detail
