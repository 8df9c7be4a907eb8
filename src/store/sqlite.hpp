#pragma once
// Thin RAII over the SQLite C API: a connection, prepared statements, a transaction.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "wardgate/store/baseline_store.hpp"

namespace wardgate::store_internal {

struct ConnectionCloser {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Connection = std::unique_ptr<sqlite3, ConnectionCloser>;

[[noreturn]] void throw_store_error(sqlite3* db, std::string_view what);

void exec(sqlite3* db, const char* sql);

class Statement {
public:
    Statement(sqlite3* db, std::string_view sql);
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, int64_t value);
    Statement& bind(int index, double value);
    Statement& bind(int index, std::string_view text);
    Statement& bind_blob(int index, const void* data, size_t size);
    Statement& bind(int index, const IpAddress& address);  // 4 or 16 bytes, network order
    // True when a row is ready; false when done. Throws StoreError.
    bool step();
    void reset();  // ready to bind and step again

    int64_t integer(int column) const { return sqlite3_column_int64(stmt_.get(), column); }
    double real(int column) const { return sqlite3_column_double(stmt_.get(), column); }
    std::string text(int column) const;
    IpAddress address(int column) const;
    DaySet days(int column) const;  // a day blob (day_blob.hpp)
    bool is_null(int column) const { return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL; }

private:
    struct Finalizer {
        void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
    };
    sqlite3* db_;
    std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
};

// BEGIN IMMEDIATE now; ROLLBACK on destruction unless commit() ran.
class Transaction {
public:
    explicit Transaction(sqlite3* db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

private:
    sqlite3* db_;
    bool done_ = false;
};

}  // namespace wardgate::store_internal
