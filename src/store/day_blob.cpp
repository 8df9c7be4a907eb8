#include "day_blob.hpp"

#include <algorithm>

#include "sqlite.hpp"

namespace wardgate::store_internal {

namespace {

DaySet argument_days(sqlite3_value* value) {
    const void* blob = sqlite3_value_blob(value);
    return decode_days(blob, blob ? static_cast<size_t>(sqlite3_value_bytes(value)) : 0);
}

void result_days(sqlite3_context* context, const DaySet& days) {
    std::string blob = encode_days(days);
    sqlite3_result_blob(context, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
}

void days_union(sqlite3_context* context, int, sqlite3_value** argv) {
    DaySet days = argument_days(argv[0]);
    days.merge(argument_days(argv[1]));
    result_days(context, days);
}

void days_from(sqlite3_context* context, int, sqlite3_value** argv) {
    DaySet days = argument_days(argv[0]);
    days.drop_before(static_cast<uint32_t>(std::max<sqlite3_int64>(0, sqlite3_value_int64(argv[1]))));
    result_days(context, days);
}

void day_of(sqlite3_context* context, int, sqlite3_value** argv) {
    DaySet days;
    days.insert(utc_day(sqlite3_value_double(argv[0])));
    result_days(context, days);
}

}  // namespace

std::string encode_days(const DaySet& days) {
    std::string out;
    out.reserve(days.size() * 4);
    for (uint32_t d : days.days()) {
        out.push_back(static_cast<char>(d >> 24));
        out.push_back(static_cast<char>(d >> 16));
        out.push_back(static_cast<char>(d >> 8));
        out.push_back(static_cast<char>(d));
    }
    return out;
}

DaySet decode_days(const void* blob, size_t size) {
    const auto* p = static_cast<const unsigned char*>(blob);
    std::vector<uint32_t> days;
    days.reserve(size / 4);
    for (size_t i = 0; i + 4 <= size; i += 4)
        days.push_back(uint32_t{p[i]} << 24 | uint32_t{p[i + 1]} << 16 | uint32_t{p[i + 2]} << 8 | p[i + 3]);
    return DaySet::of(std::move(days));
}

void register_day_functions(sqlite3* db) {
    constexpr int kFlags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    struct Function {
        const char* name;
        int arguments;
        void (*call)(sqlite3_context*, int, sqlite3_value**);
    };
    for (const Function& f : {Function{"wardgate_days_union", 2, days_union}, Function{"wardgate_days_from", 2, days_from},
                              Function{"wardgate_day_of", 1, day_of}})
        if (sqlite3_create_function_v2(db, f.name, f.arguments, kFlags, nullptr, f.call, nullptr, nullptr, nullptr) !=
            SQLITE_OK)
            throw_store_error(db, std::string("cannot register SQL function ") + f.name);
}

}  // namespace wardgate::store_internal
