// HL7 v2 messages, framed by MLLP (0x0B ... 0x1C 0x0D) or sent bare: the MSH segment names
// the sending and receiving application and facility and the message type.
#include <vector>

#include "dissect_bytes.hpp"
#include "wardgate/flows/dissect.hpp"

namespace wardgate {

namespace {

constexpr uint8_t kStartBlock = 0x0B;

// One HL7 field as a person reads it: components joined by '^', trailing empty ones cut.
std::string field_text(std::string_view field, char component) {
    std::string out;
    for (char c : field) out += c == component ? '^' : c;
    while (!out.empty() && out.back() == '^') out.pop_back();
    return flows_internal::printable(out, 40);
}

}  // namespace

uint32_t flows_internal::dissect_hl7(Bytes p, std::string& detail) {
    const bool framed = !p.empty() && p[0] == kStartBlock;
    auto text = as_text(p.subspan(framed ? 1 : 0));
    // "MSH", the field separator, then the encoding characters (component, repetition,
    // escape, subcomponent) up to the next field separator.
    if (text.size() < 9 || !text.starts_with("MSH")) return 0;
    const char separator = text[3];
    if (separator == '\r' || separator == '\n' || static_cast<unsigned char>(separator) < 0x20 ||
        static_cast<unsigned char>(separator) > 0x7e)
        return 0;
    auto segment = text.substr(0, text.find_first_of("\r\n"));
    std::vector<std::string_view> fields;
    size_t at = 0;
    while (at <= segment.size() && fields.size() < 13) {
        size_t next = segment.find(separator, at);
        if (next == std::string_view::npos) next = segment.size();
        fields.push_back(segment.substr(at, next - at));
        at = next + 1;
    }
    // fields[1] is MSH-2 (encoding characters), fields[n] is MSH-(n+1).
    if (fields.size() < 9 || fields[1].size() < 2 || fields[1].size() > 5) return 0;
    const char component = fields[1][0];
    const auto type = field_text(fields[8], component);
    if (type.empty()) return 0;
    auto party = [&](size_t application, size_t facility) {
        auto a = field_text(fields[application], component), f = field_text(fields[facility], component);
        return f.empty() ? (a.empty() ? std::string("?") : a) : a + "@" + f;
    };
    std::string text_out = "MSH " + party(2, 3) + " -> " + party(4, 5) + " " + type;
    if (fields.size() > 11 && !fields[11].empty()) text_out += " v" + field_text(fields[11], component);
    if (!framed) text_out += " (no MLLP framing)";
    if (detail.empty()) detail = std::move(text_out);
    return clue_hl7;
}

}  // namespace wardgate
