// Flow exports as CSV with a header row naming the columns (order free, unknown
// columns ignored). A row may stand for several connections ("connections" column).
#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "csv_records.hpp"
#include "field_parse.hpp"
#include "mapped_file.hpp"
#include "reader_support.hpp"
#include "readers_internal.hpp"
#include "wardgate/flows/readers.hpp"

namespace wardgate {
namespace {

using namespace flows_internal;

enum Column { initiator, responder, protocol, port, start, duration, bytes, established, connections, column_count };

constexpr std::array<std::string_view, column_count> kColumnNames = {
    "initiator", "responder", "protocol", "port", "start", "duration", "bytes", "established", "connections"};
constexpr int kRequiredColumns = 4;  // initiator .. port

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

class CsvFlowReader {
public:
    CsvFlowReader(const std::string& file, CsvRecords& records, Aggregator& out, ReadSummary& summary)
        : file_(file), records_(records), out_(out), summary_(summary) {}

    void header() {
        index_.fill(-1);
        const auto& names = records_.fields();
        names_.clear();
        for (size_t i = 0; i < names.size(); ++i) {
            names_.push_back(lowercase(names[i]));
            auto known = std::find(kColumnNames.begin(), kColumnNames.end(), names_.back());
            if (known == kColumnNames.end()) continue;
            int& slot = index_[static_cast<size_t>(known - kColumnNames.begin())];
            if (slot >= 0)
                throw_input_error(file_, records_.line(), records_.columns()[i], names_.back(),
                                  "column appears twice in the header");
            slot = static_cast<int>(i);
        }
        for (int c = 0; c < kRequiredColumns; ++c)
            if (index_[c] < 0)
                throw_input_error(file_, records_.line(), 0, kColumnNames[c], "missing required column in the header row");
    }

    void row() {
        const auto& fields = records_.fields();
        const long long line = records_.line();
        if (fields.size() < names_.size())
            throw_input_error(file_, line, 0, names_[fields.size()],
                              "truncated row: " + std::to_string(fields.size()) + " of " +
                                  std::to_string(names_.size()) + " fields");
        if (fields.size() > names_.size())
            throw_input_error(file_, line, records_.columns()[names_.size()], "",
                              "row has " + std::to_string(fields.size()) + " fields, the header names " +
                                  std::to_string(names_.size()));

        auto value = [&](Column c) { return index_[c] < 0 ? std::string_view{} : fields[index_[c]]; };
        auto bad = [&](Column c, const char* expectation) {
            throw_input_error(file_, line, records_.columns()[index_[c]], kColumnNames[c],
                              std::string("expected ") + expectation + ", got " + quote_value(value(c)));
        };

        FlowRecord r;
        auto initiator_address = parse_address(value(initiator));
        if (!initiator_address) bad(initiator, "an IP address");
        r.initiator = *initiator_address;
        auto responder_address = parse_address(value(responder));
        if (!responder_address) bad(responder, "an IP address");
        r.responder = *responder_address;

        if (value(protocol).empty()) bad(protocol, "a protocol (tcp, udp, icmp, esp, gre, a number, ...)");
        auto proto = parse_protocol(value(protocol));  // any case, as parse_protocol reads it
        bool portless = !proto || !has_ports(*proto);
        if (!value(port).empty() || !portless) {
            auto number = parse_port_number(value(port));
            if (!number) bad(port, "a port 0-65535");
            r.responder_port = *number;
        }
        if (!value(start).empty()) {
            auto seconds = parse_timestamp(value(start));
            if (!seconds) bad(start, "a timestamp (epoch seconds or ISO 8601)");
            r.start = *seconds;
        }
        if (!value(duration).empty()) {
            auto seconds = parse_seconds(value(duration));
            if (!seconds) bad(duration, "a duration in seconds");
            r.duration = *seconds;
        }
        if (!value(bytes).empty() && !parse_unsigned(value(bytes), r.bytes)) bad(bytes, "a byte count");
        if (!value(established).empty()) {
            auto flag = parse_flag(value(established));
            if (!flag) bad(established, "true or false");
            r.established = *flag;
        }
        if (!value(connections).empty() && (!parse_unsigned(value(connections), r.connections) || r.connections == 0))
            bad(connections, "a connection count of at least 1");

        ++summary_.rows;
        if (!proto) {
            ++summary_.skipped[std::string(kSkipProtocol)];
            return;
        }
        r.protocol = *proto;
        if (!has_ports(r.protocol)) r.responder_port = 0;
        out_.add(r);
        ++summary_.accepted;
    }

private:
    const std::string& file_;
    CsvRecords& records_;
    Aggregator& out_;
    ReadSummary& summary_;
    std::array<int, column_count> index_{};
    std::vector<std::string> names_;
};

}  // namespace

namespace flows_internal {

ReadSummary read_flow_csv_text(const std::string& file, std::string_view text, Aggregator& out,
                               const ProgressCallback& progress) {
    ReadSummary summary;
    Aggregator local;
    ProgressTicker ticker(progress, file, text.size());
    CsvRecords records(file, text.data(), text.data() + text.size());
    CsvFlowReader reader(file, records, local, summary);
    if (records.next()) {
        reader.header();
        while (records.next()) {
            reader.row();
            auto done = static_cast<uint64_t>(records.position() - text.data());
            if (ticker.due(done)) ticker.report(done, summary.rows);
        }
    }
    ticker.finish(summary.rows);
    out.merge(std::move(local));
    return summary;
}

}  // namespace flows_internal

ReadSummary read_flow_csv(const std::filesystem::path& file, Aggregator& out, const ProgressCallback& progress) {
    flows_internal::MappedFile input(file);
    return flows_internal::read_flow_csv_text(file.string(), input.text(), out, progress);
}

}  // namespace wardgate
