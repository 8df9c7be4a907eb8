// Template and options template sets of NetFlow v9 (RFC 3954) and IPFIX (RFC 7011).
#include "netflow_decoder_state.hpp"

namespace wardgate::netflow {

using namespace internal;

namespace {

constexpr uint16_t kFirstDataSet = 256;
constexpr size_t kMaxRecord = 65535 - 16 - 4;  // what fits in one IPFIX message after the headers

}  // namespace

void Decoder::Impl::template_set(Packet& packet, uint16_t set_id, const uint8_t* p, size_t length, size_t offset) {
    const bool ipfix = packet.version == 10;
    const bool options = ipfix ? set_id == 3 : set_id == 1;
    auto& templates = packet.state->templates;
    size_t pos = 0;
    while (length - pos >= 4) {
        const size_t at = offset + pos;
        const uint16_t id = be16(p + pos);
        const uint16_t count = be16(p + pos + 2);
        if (ipfix && count == 0) {
            // Withdrawal: of one template, or of all of this set's kind when the id is the set id.
            if (id == set_id) {
                std::erase_if(templates, [&](const auto& entry) { return entry.second.options == options; });
            } else if (id < kFirstDataSet) {
                return malformed(packet, kTemplateId, at);
            } else {
                templates.erase(id);
            }
            ++counters.template_withdrawals;
            pos += 4;
            continue;
        }
        Template t;
        t.id = id;
        t.options = options;
        size_t field_count = count;
        size_t header = 4;
        if (options && !ipfix) {
            if (length - pos < 6) break;  // padding
            const uint16_t scope_bytes = count, option_bytes = be16(p + pos + 4);
            if (id == 0 && scope_bytes == 0 && option_bytes == 0) break;  // zero padding
            if (scope_bytes % 4 || option_bytes % 4) return malformed(packet, kOptionsLength, at);
            t.scope_count = scope_bytes / 4;
            field_count = (scope_bytes + option_bytes) / 4;
            header = 6;
        } else if (options) {
            if (length - pos < 6) return malformed(packet, kTemplateOverrun, at);
            t.scope_count = be16(p + pos + 4);
            if (t.scope_count == 0 || t.scope_count > count) return malformed(packet, kScopeCount, at + 4);
            header = 6;
        } else if (count == 0) {
            if (id == 0) break;  // zero padding
            return malformed(packet, kEmptyTemplate, at);
        }
        if (field_count == 0) return malformed(packet, kEmptyTemplate, at);
        if (id < kFirstDataSet) return malformed(packet, kTemplateId, at);
        size_t q = pos + header;
        for (size_t i = 0; i < field_count; ++i) {
            if (length - q < 4) return malformed(packet, kTemplateOverrun, offset + q);
            FieldSpec f;
            f.id = be16(p + q);
            f.length = be16(p + q + 2);
            const size_t field_at = offset + q;
            q += 4;
            if (ipfix && (f.id & 0x8000)) {
                if (length - q < 4) return malformed(packet, kTemplateOverrun, offset + q);
                f.id &= 0x7FFF;
                f.enterprise = be32(p + q);
                q += 4;
            }
            if (f.length == 0) return malformed(packet, kZeroLengthField, field_at);
            if (f.length == kVariableLength) {
                if (!ipfix) return malformed(packet, kVariableLengthV9, field_at);
                t.variable = true;
                t.min_length += 1;
            } else {
                t.min_length += f.length;
            }
            t.fields.push_back(f);
        }
        if (t.min_length > kMaxRecord) return malformed(packet, kRecordTooLong, at);
        templates[id] = std::move(t);
        ++counters.templates;
        pos = q;
        release_held(packet, id);
    }
}

}  // namespace wardgate::netflow
