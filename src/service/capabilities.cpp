#include "capabilities.hpp"

#include <cap-ng.h>
#include <linux/capability.h>

#include <stdexcept>

namespace wardgate::service::detail {

std::string keep_only_network_capabilities() {
    if (capng_get_caps_process() != 0) throw std::runtime_error("libcap-ng: cannot read this process's capabilities");
    // Only shrinking the bounding set needs CAP_SETPCAP; without it (an unprivileged user
    // with ambient capabilities) systemd's CapabilityBoundingSet= has done that already.
    bool bounding = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
    auto select = static_cast<capng_select_t>(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT | (bounding ? CAPNG_SELECT_BOUNDS : 0));
    capng_clear(select);
    // Inheritable and ambient too, so the rollback watchdog the service starts keeps them.
    auto kept = static_cast<capng_type_t>(CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_INHERITABLE | CAPNG_AMBIENT |
                                          (bounding ? CAPNG_BOUNDING_SET : 0));
    if (capng_updatev(CAPNG_ADD, kept, CAP_NET_ADMIN, CAP_DAC_READ_SEARCH, -1) != 0)
        throw std::runtime_error("libcap-ng: cannot select the capabilities to keep");
    if (int rc = capng_apply(select); rc != 0)
        throw std::runtime_error("libcap-ng: cannot drop capabilities (capng_apply " + std::to_string(rc) + ")");
    return std::string("kept CAP_NET_ADMIN and CAP_DAC_READ_SEARCH, dropped every other capability") +
           (bounding ? " (bounding set too)" : "");
}

}  // namespace wardgate::service::detail
