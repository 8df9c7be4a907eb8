#pragma once
// An edge's distinct UTC days in the store: a blob of 4-byte big-endian day numbers,
// sorted. Big-endian keeps blob order equal to day order, so "days < cutoff blob" finds
// the rows holding a day before the cutoff. SQL functions merge blobs inside the upsert,
// so a file commits without reading its edges' rows back.
#include <sqlite3.h>

#include <string>

#include "wardgate/flows/flow_record.hpp"

namespace wardgate::store_internal {

std::string encode_days(const DaySet& days);
// Ignores a trailing partial day number.
DaySet decode_days(const void* blob, size_t size);

// wardgate_days_union(a, b): the union of two day blobs.
// wardgate_days_from(days, first_kept): the days on or after day number first_kept.
// wardgate_day_of(seconds): the blob of one day, that of a time in epoch seconds.
void register_day_functions(sqlite3* db);

}  // namespace wardgate::store_internal
