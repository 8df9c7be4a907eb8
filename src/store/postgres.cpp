#include "postgres.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <thread>

namespace wardgate::store_internal::pg {

namespace {

std::string trimmed(const char* message) {
    std::string s = message ? message : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

void ignore_notice(void*, const char*) {}

}  // namespace

// postgresql://user@host:port/dbname, from the parsed URI, leaving the password out.
std::string display_name(const std::string& url) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
    if (!options) {
        std::string why = trimmed(error);
        PQfreemem(error);
        throw StoreError("not a PostgreSQL connection URI (" + why + "): " + url.substr(0, url.find('@')));
    }
    std::string user, host, port, dbname;
    for (auto* o = options; o->keyword; ++o) {
        if (!o->val) continue;
        if (std::strcmp(o->keyword, "user") == 0) user = o->val;
        if (std::strcmp(o->keyword, "host") == 0) host = o->val;
        if (std::strcmp(o->keyword, "port") == 0) port = o->val;
        if (std::strcmp(o->keyword, "dbname") == 0) dbname = o->val;
    }
    PQconninfoFree(options);
    std::string out = "postgresql://";
    if (!user.empty()) out += user + "@";
    out += host.empty() ? "localhost" : host;
    if (!port.empty()) out += ":" + port;
    return out + "/" + dbname;
}

std::string_view Result::field(int row, int column) const {
    return {PQgetvalue(r_.get(), row, column), static_cast<size_t>(PQgetlength(r_.get(), row, column))};
}

// The server writes these columns in one canonical text form; anything else (a row another
// program wrote, a damaged table) stops the read with the column, row and value named, never a
// zero or an empty address in its place.
void Result::refuse(int row, int column, std::string_view expected) const {
    std::string_view value = field(row, column);
    const bool clipped = value.size() > 48;
    if (clipped) value = value.substr(0, 48);
    const char* name = PQfname(r_.get(), column);
    throw StoreError(fmt::format("{}: column \"{}\", row {} of a result: expected {}, found {:?}{}", source_,
                                 name ? name : "?", row + 1, expected, value, clipped ? "..." : ""));
}

std::string Result::text(int row, int column) const { return std::string(field(row, column)); }

int64_t Result::integer(int row, int column) const {
    return integer(row, column, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
}

int64_t Result::integer(int row, int column, int64_t min, int64_t max) const {
    const std::string_view s = field(row, column);
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    // The server's form only: no sign but '-', no leading zeros.
    const bool canonical = !s.empty() && (s.size() == 1 || (s[0] != '0' && (s[0] != '-' || s[1] != '0')));
    if (!canonical || ec != std::errc() || end != s.data() + s.size() || v < min || v > max)
        refuse(row, column, min == std::numeric_limits<int64_t>::min() ? std::string("an integer")
                                                                        : fmt::format("an integer from {} to {}", min, max));
    return v;
}

double Result::real(int row, int column) const {
    const std::string_view s = field(row, column);
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v))
        refuse(row, column, "a finite number");
    return v;
}

bool Result::boolean(int row, int column) const {
    const std::string_view s = field(row, column);
    if (s != "t" && s != "f") refuse(row, column, "a boolean (t or f)");
    return s == "t";
}

IpAddress Result::address(int row, int column) const {
    // bytea's hex output: \x then two digits a byte.
    const std::string_view s = field(row, column);
    const size_t bytes = s.size() >= 2 ? (s.size() - 2) / 2 : 0;
    if (s.size() < 2 || s[0] != '\\' || s[1] != 'x' || s.size() % 2 != 0 || (bytes != 4 && bytes != 16))
        refuse(row, column, "an address (bytea of 4 or 16 bytes)");
    IpAddress a;
    a.family = bytes == 4 ? Family::v4 : Family::v6;
    for (size_t i = 0; i < bytes; ++i) {
        const char* digits = s.data() + 2 + 2 * i;
        unsigned value = 0;
        auto [end, ec] = std::from_chars(digits, digits + 2, value, 16);
        if (ec != std::errc() || end != digits + 2) refuse(row, column, "an address (bytea of 4 or 16 bytes)");
        a.bytes[i] = static_cast<uint8_t>(value);
    }
    return a;
}

DaySet Result::days(int row, int column) const {
    // bigint[]'s output: {} or {d,d,...}, each a day number since 1970.
    const std::string_view s = field(row, column);
    constexpr std::string_view kExpected = "an array of day numbers such as {20400,20401}";
    if (s.size() < 2 || s.front() != '{' || s.back() != '}') refuse(row, column, kExpected);
    std::vector<uint32_t> days;
    const char* p = s.data() + 1;
    const char* end = s.data() + s.size() - 1;
    while (p < end) {
        uint32_t day = 0;
        auto [next, ec] = std::from_chars(p, end, day);
        if (ec != std::errc() || (next != end && *next != ',') || next + 1 == end) refuse(row, column, kExpected);
        days.push_back(day);
        p = next == end ? end : next + 1;
    }
    return DaySet::of(std::move(days));
}

uint64_t Result::affected() const {
    const char* p = PQcmdTuples(r_.get());
    return p && *p ? std::strtoull(p, nullptr, 10) : 0;
}

Connection::Connection(const std::string& url, std::string what) : name_(display_name(url)), what_(std::move(what)) {
    // Later keywords win, so the URI's own connect_timeout (if any) overrides the default.
    const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {"10", "wardgate", url.c_str(), nullptr};
    conn_.reset(PQconnectdbParams(keywords, values, 1));
    if (!conn_) throw StoreError(name_ + ": out of memory connecting");
    if (PQstatus(conn_.get()) != CONNECTION_OK)
        throw StoreError("cannot connect to " + what_ + " " + name_ + ": " + trimmed(PQerrorMessage(conn_.get())));
    // CREATE ... IF NOT EXISTS and the like send notices; they are not the user's business.
    PQsetNoticeProcessor(conn_.get(), ignore_notice, nullptr);
}

void Connection::on_connect(std::string script) {
    on_connect_ = std::move(script);
    run_script(on_connect_);
}

void Connection::ensure_connected() {
    if (PQstatus(conn_.get()) == CONNECTION_OK) return;
    PQreset(conn_.get());
    if (PQstatus(conn_.get()) != CONNECTION_OK)
        throw StoreError("cannot reach " + what_ + " " + name_ + ": " + trimmed(PQerrorMessage(conn_.get())));
    if (!on_connect_.empty()) run_script(on_connect_);
}

void prepare_schema(Connection& db, const Schema& schema) {
    auto version = [&]() -> std::optional<int64_t> {
        if (!db.exec("SELECT to_regclass('wardgate_meta') IS NOT NULL").boolean(0, 0)) return std::nullopt;
        auto v = db.exec("SELECT value FROM wardgate_meta WHERE key = $1", {schema.meta_key});
        if (v.rows() == 0) return std::nullopt;
        return v.integer(0, 0);
    };
    auto found = version();
    if (!found || *found < schema.version) {
        db.transaction([&] {
            db.exec(std::string("SELECT pg_advisory_xact_lock(") + schema.lock + ")");
            if (auto again = version(); again && *again >= schema.version) return;
            db.run_script(schema.sql);
            db.exec("INSERT INTO wardgate_meta (key, value) VALUES ($1, $2) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    {schema.meta_key, std::to_string(schema.version)});
        });
        found = version();
    }
    if (found && *found > schema.version)
        throw StoreError(db.name() + ": " + schema.what + " written by a newer wardgate (schema " + std::to_string(*found) + ")");
}

int Connection::socket() const {
    return PQstatus(conn_.get()) == CONNECTION_OK ? PQsocket(conn_.get()) : -1;
}

std::vector<std::string> Connection::notifications() {
    std::vector<std::string> out;
    if (PQstatus(conn_.get()) != CONNECTION_OK || PQconsumeInput(conn_.get()) == 0) return out;
    while (PGnotify* n = PQnotifies(conn_.get())) {
        out.emplace_back(n->extra ? n->extra : "");
        PQfreemem(n);
    }
    return out;
}

void Connection::fail(PGresult* r, std::string_view what) {
    // Both strings are copied out before PQclear frees the result they point into.
    const char* state_field = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const std::string state = state_field ? state_field : "";
    std::string message = r ? trimmed(PQresultErrorMessage(r)) : "";
    if (message.empty()) message = trimmed(PQerrorMessage(conn_.get()));
    if (r) PQclear(r);
    throw Error(fmt::format("{}: {}: {}", name_, what, message), state);
}

Result Connection::exec(std::string_view sql, const std::vector<std::string>& params) {
    ensure_connected();
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p.c_str());
    const std::string statement(sql);
    PGresult* r = PQexecParams(conn_.get(), statement.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                               nullptr, nullptr, 0);
    const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(r, "query failed");
    return Result(r, name_);
}

void Connection::run_script(std::string_view sql) {
    ensure_connected();
    const std::string script(sql);
    PGresult* r = PQexec(conn_.get(), script.c_str());
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) fail(r, "query failed");
    PQclear(r);
}

void Connection::copy_in(std::string_view copy_sql, std::string_view rows) {
    ensure_connected();
    const std::string statement(copy_sql);
    PGresult* r = PQexec(conn_.get(), statement.c_str());
    if (!r || PQresultStatus(r) != PGRES_COPY_IN) fail(r, "copy failed");
    PQclear(r);
    constexpr size_t kChunk = 1 << 20;
    for (size_t at = 0; at < rows.size(); at += kChunk) {
        const size_t n = std::min(kChunk, rows.size() - at);
        if (PQputCopyData(conn_.get(), rows.data() + at, static_cast<int>(n)) != 1) fail(nullptr, "copy failed");
    }
    if (PQputCopyEnd(conn_.get(), nullptr) != 1) fail(nullptr, "copy failed");
    while (PGresult* done = PQgetResult(conn_.get())) {
        if (PQresultStatus(done) != PGRES_COMMAND_OK) {
            // Drain the rest before throwing, so the connection is ready for ROLLBACK.
            while (PGresult* more = PQgetResult(conn_.get())) PQclear(more);
            fail(done, "copy failed");
        }
        PQclear(done);
    }
}

void Connection::rollback() noexcept {
    if (PGresult* r = PQexec(conn_.get(), "ROLLBACK")) PQclear(r);
}

void Connection::back_off(int attempt) {
    // A few milliseconds, growing and jittered, so that the writers that collided do not again.
    thread_local std::minstd_rand random(std::random_device{}());
    const int ms = (1 << std::min(attempt, 6)) + static_cast<int>(random() % 10);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

std::string bytea_text(const IpAddress& a) {
    const size_t n = a.family == Family::v4 ? 4 : 16;
    std::string out = "\\x";
    static constexpr char kHex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; ++i) {
        out += kHex[a.bytes[i] >> 4];
        out += kHex[a.bytes[i] & 15];
    }
    return out;
}

std::string days_text(const DaySet& days) {
    std::string out = "{";
    for (uint32_t d : days.days()) {
        if (out.size() > 1) out += ',';
        out += std::to_string(d);
    }
    return out + "}";
}

std::string real_text(double v) { return fmt::format("{}", v); }

void append_copy_field(std::string& row, std::string_view text) {
    for (char c : text) {
        switch (c) {
            case '\\': row += "\\\\"; break;
            case '\t': row += "\\t"; break;
            case '\n': row += "\\n"; break;
            case '\r': row += "\\r"; break;
            default: row += c;
        }
    }
}

}  // namespace wardgate::store_internal::pg
