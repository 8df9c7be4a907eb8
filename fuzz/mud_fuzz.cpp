// A MUD file (RFC 8520 JSON): parsed, then translated into a manufacturer profile with a
// mapping for every abstraction, so the translation is reached as well as the parser.
#include <cstddef>
#include <cstdint>
#include <string>

#include "wardgate/core/diagnostic.hpp"
#include "wardgate/site/mud.hpp"

namespace {

wardgate::MudTranslateOptions translate_options() {
    wardgate::MudTranslateOptions options;
    options.file = "device.json";
    for (const char* mapping : {"my-controller=endpoint:controller", "local-networks=segment:ward",
                                "same-manufacturer=role:pump", "controller:https://c.example/x=endpoint:controller",
                                "manufacturer:example.com=endpoint:vendor", "model:https://example.com/m=role:pump"}) {
        if (auto m = wardgate::parse_mud_mapping(mapping)) options.map.abstractions[m->first].push_back(m->second);
    }
    for (const char* mapping : {"www.example.com=endpoint:vendor", "cloud.example.com=endpoint:vendor"}) {
        if (auto m = wardgate::parse_mud_mapping(mapping)) options.map.dns[m->first].push_back(m->second);
    }
    return options;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const wardgate::MudTranslateOptions options = translate_options();
    wardgate::Diagnostics diags;
    auto mud = wardgate::parse_mud(std::string(reinterpret_cast<const char*>(data), size), options.file, diags);
    if (mud) (void)wardgate::translate_mud(*mud, options, diags);
    return 0;
}
