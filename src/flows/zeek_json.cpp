// Zeek logs written with LogAscii::use_json: one object per line, dotted keys
// ("id.orig_h"), unset fields omitted, ts as epoch seconds or an ISO 8601 string.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "field_parse.hpp"
#include "mapped_file.hpp"
#include "reader_support.hpp"
#include "readers_internal.hpp"
#include "wardgate/core/text.hpp"
#include "wardgate/flows/readers.hpp"

namespace wardgate {
namespace {

using namespace flows_internal;
using nlohmann::json;

bool blank(std::string_view text) { return text.find_first_not_of(" \t") == std::string_view::npos; }

class ZeekJsonRow {
public:
    ZeekJsonRow(const std::string& file, const Line& line, long long number, const json& object)
        : file_(file), line_(line), number_(number), object_(object) {}

    // The value under a dotted key, also accepting the nested form {"id": {"orig_h": ...}} and
    // Log::default_scope_sep = "_" ("id_orig_h"); null counts as absent.
    const json* find(const char* key) const {
        auto it = object_.find(key);
        if (it != object_.end()) return it->is_null() ? nullptr : &*it;
        std::string_view dotted = key;
        size_t dot = dotted.find('.');
        if (dot == std::string_view::npos) return nullptr;
        std::string scoped(dotted);
        scoped[dot] = '_';
        if (auto flat = object_.find(scoped); flat != object_.end()) return flat->is_null() ? nullptr : &*flat;
        auto outer = object_.find(std::string(dotted.substr(0, dot)));
        if (outer == object_.end() || !outer->is_object()) return nullptr;
        auto inner = outer->find(std::string(dotted.substr(dot + 1)));
        return inner == outer->end() || inner->is_null() ? nullptr : &*inner;
    }

    const json& require(const char* key) const {
        const json* value = find(key);
        if (!value) throw_input_error(file_, number_, 0, key, "missing required field");
        return *value;
    }

    [[noreturn]] void bad(const char* key, const json& value, const char* expectation) const {
        throw_input_error(file_, number_, key_column(key), key,
                          std::string("expected ") + expectation + ", got " +
                              (value.is_string() ? quote_value(value.get_ref<const std::string&>()) : value.dump()));
    }

    double timestamp(const char* key) const {
        const json& value = require(key);
        std::optional<double> seconds;
        if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(kMaxSeconds)) {
            // JSON::TS_MILLIS writes whole milliseconds; no time in seconds is this large.
            double v = static_cast<double>(value.get<uint64_t>()) / 1000.0;
            if (valid_seconds(v)) seconds = v;
        } else if (value.is_number()) {
            double v = value.get<double>();
            if (valid_seconds(v)) seconds = v;
        } else if (value.is_string()) {
            seconds = parse_timestamp(value.get_ref<const std::string&>());
        }
        if (!seconds) bad(key, value, "a timestamp (epoch seconds, epoch milliseconds or ISO 8601)");
        return *seconds;
    }

    IpAddress address(const char* key) const {
        const json& value = require(key);
        std::optional<IpAddress> parsed;
        if (value.is_string()) parsed = parse_address(value.get_ref<const std::string&>());
        if (!parsed) bad(key, value, "an IP address");
        return *parsed;
    }

    uint16_t port(const char* key) const {
        const json& value = require(key);
        if (value.is_number_unsigned() && value.get<uint64_t>() <= 65535) return static_cast<uint16_t>(value.get<uint64_t>());
        bad(key, value, "a port 0-65535");
    }

    const std::string& text(const char* key) const {
        const json& value = require(key);
        if (!value.is_string()) bad(key, value, "a string");
        return value.get_ref<const std::string&>();
    }

    double seconds_or_zero(const char* key) const {
        const json* value = find(key);
        if (!value) return 0;
        if (!value->is_number() || !valid_seconds(value->get<double>())) bad(key, *value, "a duration in seconds");
        return value->get<double>();
    }

    uint64_t count_or_zero(const char* key) const {
        const json* value = find(key);
        if (!value) return 0;
        if (!value->is_number_unsigned()) bad(key, *value, "a byte count");
        return value->get<uint64_t>();
    }

private:
    // Where the key appears in the line, so the diagnostic can point at it; 0 when not found.
    long long key_column(const char* key) const {
        std::string needle = std::string("\"") + key + "\"";
        size_t at = line_.text().find(needle);
        return at == std::string_view::npos ? 0 : static_cast<long long>(at) + 1;
    }

    const std::string& file_;
    const Line& line_;
    long long number_;
    const json& object_;
};

}  // namespace

namespace flows_internal {

ReadSummary read_zeek_json_text(const std::string& name, std::string_view text, Aggregator& out,
                                const ProgressCallback& progress) {
    ReadSummary summary;
    Aggregator local;
    flows_internal::ProgressTicker ticker(progress, name, text.size());
    flows_internal::LineCursor cursor(text.data(), text.data() + text.size());
    flows_internal::Line line;
    bool any_conn_state = false, checked_kind = false;
    auto read_line = [&] {
        json object;
        try {
            object = json::parse(line.begin, line.end);
        } catch (const json::parse_error& e) {
            flows_internal::throw_input_error(name, cursor.number(), static_cast<long long>(e.byte), "",
                                              "invalid JSON: " + json_error_text(e.what()));
        } catch (const json::out_of_range& e) {
            // A number too large for a double ("1e999"); the parser gives no position.
            flows_internal::throw_input_error(name, cursor.number(), 0, "", "invalid JSON: " + json_error_text(e.what()));
        }
        if (!object.is_object()) flows_internal::throw_input_error(name, cursor.number(), 1, "", "expected a JSON object");

        ZeekJsonRow row(name, line, cursor.number(), object);
        if (const json* path = row.find("_path"); path && !(path->is_string() && path->get_ref<const std::string&>().starts_with("conn")))
            flows_internal::throw_input_error(name, cursor.number(), 0, "_path",
                                              "this is Zeek's " + path->dump() + " log, not a conn log: " +
                                                  std::string(flows_internal::kListConnLogs));
        const json* state = row.find("conn_state");
        if (!state && !checked_kind) {
            checked_kind = true;
            std::vector<std::string> keys;
            for (const auto& item : object.items()) keys.push_back(item.key());
            if (auto log = flows_internal::other_zeek_log(keys))
                flows_internal::throw_input_error(name, cursor.number(), 0, "",
                                                  "these are the fields of Zeek's " + *log + " log, not of a conn log: " +
                                                      std::string(flows_internal::kListConnLogs));
        }
        FlowRecord r;
        r.start = row.timestamp("ts");
        r.initiator = row.address("id.orig_h");
        r.responder = row.address("id.resp_h");
        r.responder_port = row.port("id.resp_p");
        const std::string& proto = row.text("proto");
        r.duration = row.seconds_or_zero("duration");
        r.bytes = row.count_or_zero("orig_bytes") + row.count_or_zero("resp_bytes");
        if (state) {
            if (!state->is_string()) row.bad("conn_state", *state, "a string");
            r.established = flows_internal::zeek_established(state->get_ref<const std::string&>());
            any_conn_state = true;
        }
        const json* history = row.find("history");
        if (history && !history->is_string()) row.bad("history", *history, "a string");
        if (const json* service = row.find("service")) {
            if (!service->is_string()) row.bad("service", *service, "a string");
            r.applications = flows_internal::zeek_service_applications(service->get_ref<const std::string&>());
        }

        ++summary.rows;
        if (proto != "tcp" && proto != "udp" && proto != "icmp") {
            ++summary.skipped[std::string(flows_internal::kSkipZeekProtocol)];
            return;
        }
        r.protocol = proto == "tcp" ? Protocol::tcp : proto == "udp" ? Protocol::udp : Protocol::icmp;
        if (r.established && history)
            r.established = flows_internal::zeek_history_established(history->get_ref<const std::string&>(), r.protocol);
        if (r.protocol == Protocol::icmp && !r.established)
            r.established = flows_internal::zeek_icmp_answered(row.count_or_zero("orig_pkts"), row.count_or_zero("resp_pkts"));
        // Zeek puts an ICMP message's type in id.orig_p and its code in id.resp_p.
        if (r.protocol == Protocol::icmp) {
            const json* type = row.find("id.orig_p");
            bool known = type && type->is_number_unsigned() && type->get<uint64_t>() < 255 && r.responder_port < 256;
            r.responder_port = known ? icmp_port(static_cast<uint8_t>(type->get<uint64_t>()), static_cast<uint8_t>(r.responder_port)) : 0;
        }
        local.add(r);
        ++summary.accepted;
    };
    const char* text_end = text.data() + text.size();
    while (cursor.next(line)) {
        if (blank(line.text())) continue;
        if (line.end == text_end && text.back() != '\n' && summary.rows > 0) {
            try {
                read_line();
            } catch (const InputError& e) {
                flows_internal::skip_unfinished_last_line(summary, cursor.number(), e);
            }
        } else {
            read_line();
        }
        auto done = static_cast<uint64_t>(cursor.position() - text.data());
        if (ticker.due(done)) ticker.report(done, summary.rows);
    }
    if (summary.rows > 0 && !any_conn_state) summary.warnings.emplace_back(flows_internal::kNoConnState);
    ticker.finish(summary.rows);
    out.merge(std::move(local));
    return summary;
}

}  // namespace flows_internal

ReadSummary read_zeek_json(const std::filesystem::path& file, Aggregator& out, const ProgressCallback& progress) {
    flows_internal::MappedFile input(file);
    return flows_internal::read_zeek_json_text(file.string(), input.text(), out, progress);
}

}  // namespace wardgate
