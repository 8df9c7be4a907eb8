// DICOM upper layer (PS3.8 section 9.3): A-ASSOCIATE-RQ and -AC.
#include <algorithm>
#include <array>
#include <vector>

#include "dissect_bytes.hpp"
#include "wardgate/flows/dissect.hpp"

namespace wardgate {

namespace {

constexpr std::string_view kApplicationContext = "1.2.840.10008.3.1.1.1";
constexpr size_t kFixedHeader = 74;  // PDU header, version, AE titles and reserved bytes
constexpr uint32_t kMaxAssociatePdu = 1u << 20;

struct SopClass {
    std::string_view uid, name;
};

constexpr std::array<SopClass, 25> kSopClasses{{
    {"1.2.840.10008.1.1", "Verification"},
    {"1.2.840.10008.1.20.1", "Storage Commitment Push Model"},
    {"1.2.840.10008.3.1.2.3.3", "Modality Performed Procedure Step"},
    {"1.2.840.10008.5.1.1.9", "Basic Grayscale Print Management"},
    {"1.2.840.10008.5.1.4.1.1.1", "Computed Radiography Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.1.1", "Digital X-Ray Image Storage - For Presentation"},
    {"1.2.840.10008.5.1.4.1.1.1.1.1", "Digital X-Ray Image Storage - For Processing"},
    {"1.2.840.10008.5.1.4.1.1.1.2", "Digital Mammography X-Ray Image Storage - For Presentation"},
    {"1.2.840.10008.5.1.4.1.1.2", "CT Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.2.1", "Enhanced CT Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.4", "MR Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.6.1", "Ultrasound Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.7", "Secondary Capture Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.20", "Nuclear Medicine Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.11", "Basic Text SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.22", "Enhanced SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.67", "X-Ray Radiation Dose SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.128", "PET Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.481.1", "RT Image Storage"},
    {"1.2.840.10008.5.1.4.1.2.1.1", "Patient Root Query/Retrieve - FIND"},
    {"1.2.840.10008.5.1.4.1.2.1.2", "Patient Root Query/Retrieve - MOVE"},
    {"1.2.840.10008.5.1.4.1.2.2.1", "Study Root Query/Retrieve - FIND"},
    {"1.2.840.10008.5.1.4.1.2.2.2", "Study Root Query/Retrieve - MOVE"},
    {"1.2.840.10008.5.1.4.1.2.2.3", "Study Root Query/Retrieve - GET"},
    {"1.2.840.10008.5.1.4.31", "Modality Worklist - FIND"},
}};

// A UID is digits and dots, sometimes padded with one NUL to an even length.
std::string_view uid_text(flows_internal::Bytes b) {
    auto text = flows_internal::as_text(b);
    while (!text.empty() && (text.back() == '\0' || text.back() == ' ')) text.remove_suffix(1);
    return text;
}

bool is_uid(std::string_view text) {
    return !text.empty() && text.size() <= 64 &&
           std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

// An AE title: 16 bytes of printable characters, space padded, not all spaces.
std::optional<std::string> ae_title(flows_internal::Bytes b) {
    std::string out;
    for (uint8_t c : b) {
        if (c == 0) break;
        if (c < 0x20 || c > 0x7e || c == '\\') return std::nullopt;
        out += static_cast<char>(c);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    auto first = out.find_first_not_of(' ');
    if (first == std::string::npos) return std::nullopt;
    return out.substr(first);
}

}  // namespace

std::string sop_class_name(std::string_view uid) {
    for (const auto& c : kSopClasses)
        if (c.uid == uid) return std::string(c.name);
    return std::string(uid);
}

uint32_t flows_internal::dissect_dicom(Bytes p, std::string& detail) {
    if (p.size() < kFixedHeader + 4 || (p[0] != 0x01 && p[0] != 0x02) || p[1] != 0) return 0;
    const uint32_t length = be32(p, 2);
    if (length < kFixedHeader - 6 + 4 || length > kMaxAssociatePdu) return 0;
    if ((be16(p, 6) & 1) == 0) return 0;  // protocol version bit 0
    auto called = ae_title(p.subspan(10, 16));
    auto calling = ae_title(p.subspan(26, 16));
    if (!called || !calling) return 0;
    // Items follow the fixed header; the first is the application context.
    const size_t end = std::min<size_t>(p.size(), size_t{length} + 6);
    size_t at = kFixedHeader;
    bool context = false;
    std::vector<std::string> abstract_syntaxes;
    while (at + 4 <= end) {
        const uint8_t type = p[at];
        const size_t item_length = be16(p, at + 2);
        const size_t body = at + 4;
        if (type == 0x10) {
            if (body + item_length > end || uid_text(p.subspan(body, item_length)) != kApplicationContext) return 0;
            context = true;
        } else if (!context) {
            return 0;
        } else if (type == 0x20) {
            // Presentation context: id, three reserved bytes, then sub-items (0x30 abstract syntax).
            size_t sub = body + 4;
            const size_t item_end = std::min(end, body + item_length);
            while (sub + 4 <= item_end) {
                const size_t sub_length = be16(p, sub + 2);
                if (p[sub] == 0x30 && sub + 4 + sub_length <= item_end) {
                    auto uid = uid_text(p.subspan(sub + 4, sub_length));
                    if (is_uid(uid) && std::find(abstract_syntaxes.begin(), abstract_syntaxes.end(), uid) == abstract_syntaxes.end())
                        abstract_syntaxes.emplace_back(uid);
                }
                sub += 4 + sub_length;
            }
        }
        at = body + item_length;
    }
    if (!context) return 0;
    const bool request = p[0] == 0x01;
    std::string text = std::string(request ? "A-ASSOCIATE-RQ" : "A-ASSOCIATE-AC") + " calling \"" + *calling +
                       "\" called \"" + *called + "\"";
    constexpr size_t kShown = 4;
    for (size_t i = 0; i < abstract_syntaxes.size() && i < kShown; ++i)
        text += (i ? ", " : ": ") + sop_class_name(abstract_syntaxes[i]);
    if (abstract_syntaxes.size() > kShown) text += " (+" + std::to_string(abstract_syntaxes.size() - kShown) + " more)";
    if (detail.empty()) detail = std::move(text);
    return request ? clue_dicom_request : clue_dicom_accept;
}

}  // namespace wardgate
