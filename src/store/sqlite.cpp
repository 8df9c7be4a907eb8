#include "sqlite.hpp"

#include "day_blob.hpp"

#include <cstring>

namespace wardgate::store_internal {

void throw_store_error(sqlite3* db, std::string_view what) {
    const char* file = db ? sqlite3_db_filename(db, "main") : nullptr;
    std::string message = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
    if (file && *file) message = std::string(file) + ": " + message;
    throw StoreError(message);
}

void exec(sqlite3* db, const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
        std::string message = error ? error : "unknown error";
        sqlite3_free(error);
        const char* file = sqlite3_db_filename(db, "main");
        throw StoreError(std::string(file ? file : "") + ": " + message);
    }
}

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw, nullptr) !=
        SQLITE_OK)
        throw_store_error(db, "cannot prepare statement");
    stmt_.reset(raw);
}

Statement& Statement::bind(int index, int64_t value) {
    if (sqlite3_bind_int64(stmt_.get(), index, value) != SQLITE_OK) throw_store_error(db_, "bind");
    return *this;
}

Statement& Statement::bind(int index, double value) {
    if (sqlite3_bind_double(stmt_.get(), index, value) != SQLITE_OK) throw_store_error(db_, "bind");
    return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
    if (sqlite3_bind_text(stmt_.get(), index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT) != SQLITE_OK)
        throw_store_error(db_, "bind");
    return *this;
}

Statement& Statement::bind_blob(int index, const void* data, size_t size) {
    if (sqlite3_bind_blob(stmt_.get(), index, data, static_cast<int>(size), SQLITE_TRANSIENT) != SQLITE_OK)
        throw_store_error(db_, "bind");
    return *this;
}

Statement& Statement::bind(int index, const IpAddress& a) {
    return bind_blob(index, a.bytes.data(), a.family == Family::v4 ? 4 : 16);
}

DaySet Statement::days(int column) const {
    const void* blob = sqlite3_column_blob(stmt_.get(), column);
    return decode_days(blob, blob ? static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), column)) : 0);
}

bool Statement::step() {
    int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw_store_error(db_, "query failed");
}

void Statement::reset() {
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
}

std::string Statement::text(int column) const {
    auto* p = sqlite3_column_text(stmt_.get(), column);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), column)))
             : std::string();
}

IpAddress Statement::address(int column) const {
    IpAddress a;
    const void* p = sqlite3_column_blob(stmt_.get(), column);
    int size = sqlite3_column_bytes(stmt_.get(), column);
    if (p && (size == 4 || size == 16)) {
        a.family = size == 4 ? Family::v4 : Family::v6;
        std::memcpy(a.bytes.data(), p, static_cast<size_t>(size));
    }
    return a;
}

Transaction::Transaction(sqlite3* db) : db_(db) { exec(db, "BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
    exec(db_, "COMMIT");
    done_ = true;
}

}  // namespace wardgate::store_internal
