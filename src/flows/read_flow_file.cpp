// Format detection and dispatch: one mapping serves both, so pipes work too.
#include "mapped_file.hpp"
#include "pcap_reader.hpp"
#include "readers_internal.hpp"
#include "wardgate/flows/readers.hpp"

namespace wardgate {

namespace flows_internal {

FlowFormat detect_flow_format_text(std::string_view text) {
    if (is_capture_magic(text)) return FlowFormat::pcap;
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
    size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return FlowFormat::csv;
    if (text[first] == '#') return FlowFormat::zeek_tsv;
    if (text[first] == '{') return FlowFormat::zeek_json;
    return FlowFormat::csv;
}

}  // namespace flows_internal

FlowFormat detect_flow_format(const std::filesystem::path& file) {
    flows_internal::MappedFile input(file);
    return flows_internal::detect_flow_format_text(input.text());
}

ReadSummary read_flow_file(const std::filesystem::path& file, Aggregator& out, const ProgressCallback& progress) {
    flows_internal::MappedFile input(file);
    const std::string name = file.string();
    switch (flows_internal::detect_flow_format_text(input.text())) {
        case FlowFormat::zeek_tsv: return flows_internal::read_zeek_tsv_text(name, input.text(), out, progress);
        case FlowFormat::zeek_json: return flows_internal::read_zeek_json_text(name, input.text(), out, progress);
        case FlowFormat::csv: return flows_internal::read_flow_csv_text(name, input.text(), out, progress);
        case FlowFormat::pcap: return flows_internal::read_pcap_text(name, input.text(), out, progress);
    }
    return {};
}

}  // namespace wardgate
