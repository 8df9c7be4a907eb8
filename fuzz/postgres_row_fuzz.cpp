// What comes back from PostgreSQL is text: a row of the shared baseline or of the published
// versions, written by any program that holds a role on the database. The input is one row,
// fields separated by tabs, read as an integer, a number, a boolean, an address, a day array
// and a port. Each field must either decode or be refused with a StoreError, and what decodes
// must read back the same from the text wardgate itself writes for it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "store/postgres.hpp"

namespace {

using wardgate::StoreError;
using wardgate::store_internal::pg::Result;

Result one_row(const std::vector<std::string>& fields) {
    PGresult* r = PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK);
    if (!r) std::abort();
    std::vector<PGresAttDesc> columns(fields.size());
    std::vector<std::string> names(fields.size());
    for (size_t i = 0; i < fields.size(); ++i) {
        names[i] = "c" + std::to_string(i);
        columns[i] = PGresAttDesc{names[i].data(), 0, 0, 0, 25, -1, -1};
    }
    if (!PQsetResultAttrs(r, static_cast<int>(columns.size()), columns.data())) std::abort();
    for (size_t i = 0; i < fields.size(); ++i)
        if (!PQsetvalue(r, 0, static_cast<int>(i), const_cast<char*>(fields[i].data()), static_cast<int>(fields[i].size())))
            std::abort();
    return Result(r, "fuzz");
}

template <class Read>
void decode(Read&& read) {
    try {
        read();
    } catch (const StoreError& e) {
        if (std::string_view(e.what()).find("expected") == std::string_view::npos) std::abort();
    }
}

std::string lowercase(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace wardgate::store_internal::pg;
    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> fields;
    for (size_t at = 0; fields.size() < 6;) {
        const size_t tab = input.find('\t', at);
        fields.emplace_back(input.substr(at, tab == std::string_view::npos ? std::string_view::npos : tab - at));
        if (tab == std::string_view::npos) break;
        at = tab + 1;
    }
    fields.resize(6);
    const Result row = one_row(fields);

    decode([&] {
        const int64_t v = row.integer(0, 0);
        if (std::to_string(v) != fields[0]) std::abort();
    });
    decode([&] {
        const double v = row.real(0, 1);
        if (one_row({real_text(v)}).real(0, 0) != v) std::abort();
    });
    decode([&] {
        const bool v = row.boolean(0, 2);
        if (fields[2] != (v ? "t" : "f")) std::abort();
    });
    decode([&] {
        const auto a = row.address(0, 3);
        if (bytea_text(a) != lowercase(fields[3])) std::abort();
    });
    decode([&] {
        const auto days = row.days(0, 4);
        if (one_row({days_text(days)}).days(0, 0) != days) std::abort();
    });
    decode([&] {
        const int64_t port = row.integer(0, 5, 0, 65535);
        if (port < 0 || port > 65535) std::abort();
    });
    return 0;
}
