#pragma once
// The baseline store's tests run against both backends: GENERATE(as<std::string>{}, "sqlite",
// "postgresql") names one, and store_location gives a new, empty store of it.
#include <cstdint>
#include <string>
#include <vector>

#include "postgres_server.hpp"
#include "temp_dir.hpp"

namespace wardgate::testing {

// A SQLite file in `dir`, or a new database on the tests' PostgreSQL server.
inline std::string store_location(const std::string& backend, const TempDir& dir, const std::string& name = "baseline") {
    if (backend == "postgresql") return fresh_postgres_database(name);
    return (dir.path / (name + ".db")).string();
}

// The location quoted for a shell command line (a PostgreSQL URI holds '&' and '?').
inline std::string shell_quoted(const std::string& text) { return "'" + text + "'"; }

// The days a stored edge was seen on, as a list to compare.
template <typename Edge>
std::vector<uint32_t> days_of(const Edge& e) {
    auto days = e.days.days();
    return {days.begin(), days.end()};
}

}  // namespace wardgate::testing
