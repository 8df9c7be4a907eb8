#include "zeek_tsv_reader.hpp"

#include <algorithm>
#include <charconv>

#include "field_parse.hpp"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace wardgate::flows_internal {

namespace {

// Header values escape bytes as \xNN ("#separator \x09").
std::string decode_zeek_escapes(std::string_view text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] == 'x') {
            unsigned value = 0;
            auto [ptr, ec] = std::from_chars(text.data() + i + 2, text.data() + i + 4, value, 16);
            if (ec == std::errc{} && ptr == text.data() + i + 4) {
                out += static_cast<char>(value);
                i += 3;
                continue;
            }
        }
        out += text[i];
    }
    return out;
}

// Splits a row at `sep`, stores views of its first `keep` fields and returns how many fields it has.
size_t split_row(const char* begin, const char* end, char sep, std::string_view* fields, size_t keep) {
    size_t count = 0;
    const char* field_start = begin;
    auto field_end = [&](const char* at) {
        if (count < keep) fields[count] = {field_start, static_cast<size_t>(at - field_start)};
        ++count;
        field_start = at + 1;
    };
    const char* p = begin;
#ifdef __SSE2__
    const __m128i needle = _mm_set1_epi8(sep);
    for (; end - p >= 16; p += 16) {
        __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, needle)));
        while (mask) {
            field_end(p + __builtin_ctz(mask));
            mask &= mask - 1;
        }
    }
#endif
    for (; p < end; ++p)
        if (*p == sep) field_end(p);
    field_end(end);
    return count;
}

std::optional<Protocol> zeek_protocol(std::string_view text) {
    if (text == "tcp") return Protocol::tcp;
    if (text == "udp") return Protocol::udp;
    if (text == "icmp") return Protocol::icmp;
    return std::nullopt;
}

}  // namespace

void ZeekTsvReader::set_layout(ZeekLayout layout) {
    layout_ = std::move(layout);
    views_.assign(layout_.used, {});
}

// Counted only when a message needs it, which keeps line bookkeeping out of the row loop.
long long ZeekTsvReader::line_number(const char* at) const {
    return 1 + std::count(text_.data(), at, '\n');
}

void ZeekTsvReader::fail(const char* line_begin, long long column, std::string_view field, std::string message) const {
    throw_input_error(file_, line_number(line_begin), column, field, std::move(message));
}

void ZeekTsvReader::flush() {
    buffer_ = sink_.flush(pending_);
    pending_ = 0;
}

void ZeekTsvReader::header(const Line& line) {
    std::string_view text = line.text();
    if (text.starts_with("#separator")) {
        std::string sep = decode_zeek_escapes(text.substr(std::min(text.size(), sizeof("#separator"))));
        if (sep.size() != 1 || sep[0] == '\n')
            fail(line.begin, 12, "#separator", "expected a single-byte separator such as \\x09, got " + quote_value(sep));
        layout_.separator = sep[0];
        return;
    }
    size_t cut = text.find(layout_.separator);
    std::string_view directive = text.substr(0, cut);
    std::string_view value = cut == std::string_view::npos ? std::string_view{} : text.substr(cut + 1);
    if (directive == "#unset_field") layout_.unset = std::string(value);
    if (directive == "#path") path(value, line.begin);
    if (directive == "#fields") fields(value, line.begin);
}

// Zeek names every log by #path; a conn log written through a filter may carry a suffix
// ("conn-internal"), any other log is not connections.
void ZeekTsvReader::path(std::string_view value, const char* line_begin) {
    if (value.starts_with("conn")) return;
    fail(line_begin, 7, "#path",
         "this is Zeek's " + quote_value(value) + " log, not a conn log: " + std::string(kListConnLogs));
}

void ZeekTsvReader::fields(std::string_view value, const char* line_begin) {
    ZeekLayout next;
    next.separator = layout_.separator;
    next.unset = layout_.unset;
    next.fields_at = line_begin;
    for (size_t start = 0;;) {
        size_t cut = value.find(next.separator, start);
        next.names.emplace_back(value.substr(start, cut - start));
        if (cut == std::string_view::npos) break;
        start = cut + 1;
    }
    auto find = [&](std::string_view name, bool required) {
        auto it = std::find(next.names.begin(), next.names.end(), name);
        if (it == next.names.end()) {
            // Log::default_scope_sep = "_" writes id.orig_h as id_orig_h.
            std::string scoped(name);
            std::replace(scoped.begin(), scoped.end(), '.', '_');
            it = std::find(next.names.begin(), next.names.end(), scoped);
        }
        if (it == next.names.end()) {
            if (required) fail(line_begin, 0, name, "missing required column in #fields");
            return -1;
        }
        int index = static_cast<int>(it - next.names.begin());
        next.used = std::max(next.used, static_cast<size_t>(index) + 1);
        return index;
    };
    next.ts = find("ts", true);
    next.orig_h = find("id.orig_h", true);
    next.resp_h = find("id.resp_h", true);
    next.resp_p = find("id.resp_p", true);
    next.orig_p = find("id.orig_p", false);
    next.proto = find("proto", true);
    next.duration = find("duration", false);
    next.orig_bytes = find("orig_bytes", false);
    next.resp_bytes = find("resp_bytes", false);
    next.conn_state = find("conn_state", false);
    next.history = find("history", false);
    next.service = find("service", false);
    next.orig_pkts = find("orig_pkts", false);
    next.resp_pkts = find("resp_pkts", false);
    if (next.conn_state < 0) {
        if (auto log = other_zeek_log(next.names))
            fail(line_begin, 0, "#fields",
                 "these are the fields of Zeek's " + *log + " log, not of a conn log: " + std::string(kListConnLogs));
        std::string warning = "line " + std::to_string(line_number(line_begin)) + ": " + std::string(kNoConnState);
        if (std::find(summary_.warnings.begin(), summary_.warnings.end(), warning) == summary_.warnings.end())
            summary_.warnings.push_back(std::move(warning));
    }
    set_layout(std::move(next));
}

void ZeekTsvReader::last_row(const Line& line) {
    if (layout_.names.empty()) return row(line);
    try {
        row(line);
    } catch (const InputError& e) {
        skip_unfinished_last_line(summary_, line_number(line.begin), e);
    }
}

void ZeekTsvReader::row(const Line& line) {
    if (layout_.names.empty()) fail(line.begin, 1, "#fields", "data row before any #fields header line");
    const size_t expected = layout_.names.size();
    size_t count = split_row(line.begin, line.end, layout_.separator, views_.data(), layout_.used);
    if (count < expected)
        fail(line.begin, column_of(line.begin, line.end), layout_.names[count],
             "truncated row: " + std::to_string(count) + " of " + std::to_string(expected) + " fields (#fields on line " +
                 std::to_string(line_number(layout_.fields_at)) + ")");
    if (count > expected)
        fail(line.begin, 0, "",
             "row has " + std::to_string(count) + " fields, but #fields on line " +
                 std::to_string(line_number(layout_.fields_at)) + " names " + std::to_string(expected));

    auto bad = [&](int column, const char* expectation) {
        std::string_view value = views_[column];
        fail(line.begin, column_of(line.begin, value.data()), layout_.names[column],
             std::string("expected ") + expectation + ", got " + quote_value(value));
    };
    auto address = [&](int column, IpAddress& out) {
        if (parse_ipv4_fast(views_[column], out)) return;
        auto parsed = IpAddress::parse(views_[column]);
        if (!parsed) bad(column, "an IP address");
        out = *parsed;
    };
    auto is_set = [&](int column) {
        if (column < 0) return false;
        std::string_view value = views_[column];
        const std::string& unset = layout_.unset;
        if (value.size() != unset.size()) return true;
        return unset.size() == 1 ? value[0] != unset[0] : value != unset;
    };

    FlowRecord& r = buffer_[pending_];
    r = FlowRecord{};
    auto start = parse_timestamp(views_[layout_.ts]);
    if (!start) bad(layout_.ts, "a timestamp (epoch seconds)");
    r.start = *start;
    address(layout_.orig_h, r.initiator);
    address(layout_.resp_h, r.responder);
    auto port = parse_port_number(views_[layout_.resp_p]);
    if (!port) bad(layout_.resp_p, "a port 0-65535");
    r.responder_port = *port;
    if (is_set(layout_.duration)) {
        auto duration = parse_seconds(views_[layout_.duration]);
        if (!duration) bad(layout_.duration, "a duration in seconds");
        r.duration = *duration;
    }
    for (int column : {layout_.orig_bytes, layout_.resp_bytes}) {
        if (!is_set(column)) continue;
        uint64_t bytes = 0;
        if (!parse_unsigned(views_[column], bytes)) bad(column, "a byte count");
        r.bytes += bytes;
    }

    ++summary_.rows;
    auto protocol = zeek_protocol(views_[layout_.proto]);
    if (!protocol) {
        ++summary_.skipped[std::string(kSkipZeekProtocol)];
        return;
    }
    r.protocol = *protocol;
    r.established = layout_.conn_state >= 0 && zeek_established(views_[layout_.conn_state]);
    if (is_set(layout_.service)) r.applications = zeek_service_applications(views_[layout_.service]);
    if (r.established && is_set(layout_.history) && views_[layout_.history] != "(empty)")
        r.established = zeek_history_established(views_[layout_.history], r.protocol);
    if (r.protocol == Protocol::icmp && !r.established) {
        uint64_t sent = 0, answered = 0;
        for (auto [column, count] : {std::pair{layout_.orig_pkts, &sent}, std::pair{layout_.resp_pkts, &answered}})
            if (is_set(column) && !parse_unsigned(views_[column], *count)) bad(column, "a packet count");
        r.established = zeek_icmp_answered(sent, answered);
    }
    // Zeek puts an ICMP message's type in id.orig_p and its code in id.resp_p.
    if (r.protocol == Protocol::icmp) {
        auto type = layout_.orig_p >= 0 ? parse_port_number(views_[layout_.orig_p]) : std::nullopt;
        r.responder_port = type && *type < 255 && r.responder_port < 256
                               ? icmp_port(static_cast<uint8_t>(*type), static_cast<uint8_t>(r.responder_port))
                               : 0;
    }
    ++pending_;
    ++summary_.accepted;
}

}  // namespace wardgate::flows_internal
