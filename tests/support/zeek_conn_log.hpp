#pragma once
// A Zeek conn.log (TSV) read row by row into its named columns, for comparing a capture's
// flows with what Zeek made of it.
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace wardgate::testing {

using ZeekRow = std::map<std::string, std::string>;  // #fields name -> value as written

inline std::vector<ZeekRow> zeek_conn_rows(const std::string& file) {
    auto split = [](const std::string& line) {
        std::vector<std::string> out;
        std::stringstream s(line);
        for (std::string field; std::getline(s, field, '\t');) out.push_back(field);
        return out;
    };
    std::ifstream in(file);
    std::vector<std::string> names;
    std::vector<ZeekRow> rows;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("#fields\t", 0) == 0) {
            names = split(line.substr(8));
        } else if (!line.empty() && line[0] != '#') {
            auto fields = split(line);
            ZeekRow row;
            for (size_t i = 0; i < names.size() && i < fields.size(); ++i) row[names[i]] = fields[i];
            rows.push_back(std::move(row));
        }
    }
    return rows;
}

// Zeek turned the roles around ('^') on the strength of one side's packets alone.
inline bool zeek_flipped_one_sided(const ZeekRow& row) {
    return row.at("history").rfind('^', 0) == 0 && (row.at("orig_pkts") == "0" || row.at("resp_pkts") == "0");
}

}  // namespace wardgate::testing
