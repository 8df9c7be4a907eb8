#pragma once
// Thin RAII over libpq: a connection, text-format results, COPY, transactions that are tried
// again when the server picked them as a deadlock victim or serialisation failure.
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "wardgate/store/baseline_store.hpp"

namespace wardgate::store_internal::pg {

// A server error with its SQLSTATE ("40P01" deadlock, "42501" insufficient privilege...).
class Error : public StoreError {
public:
    Error(const std::string& message, std::string sqlstate) : StoreError(message), sqlstate_(std::move(sqlstate)) {}
    const std::string& sqlstate() const { return sqlstate_; }
    // A deadlock or serialisation failure: the same transaction may succeed when run again.
    bool retryable() const { return sqlstate_ == "40P01" || sqlstate_ == "40001"; }

private:
    std::string sqlstate_;
};

// A query's rows in text format. Each typed accessor checks the text is what the server
// writes for that type and throws StoreError naming the column, row and value otherwise.
class Result {
public:
    // `source` names where the rows came from in messages (the database, without password).
    explicit Result(PGresult* r, std::string source = "a PostgreSQL result") : r_(r), source_(std::move(source)) {}
    int rows() const { return PQntuples(r_.get()); }
    bool null(int row, int column) const { return PQgetisnull(r_.get(), row, column) != 0; }
    std::string text(int row, int column) const;
    int64_t integer(int row, int column) const;
    int64_t integer(int row, int column, int64_t min, int64_t max) const;  // refused outside [min, max]
    uint64_t count(int row, int column) const { return static_cast<uint64_t>(integer(row, column, 0, INT64_MAX)); }
    double real(int row, int column) const;                                // finite only
    bool boolean(int row, int column) const;
    IpAddress address(int row, int column) const;  // bytea of 4 or 16 bytes
    DaySet days(int row, int column) const;        // bigint[] of day numbers
    uint64_t affected() const;                      // rows an INSERT, UPDATE or DELETE touched

private:
    struct Clear {
        void operator()(PGresult* r) const { PQclear(r); }
    };
    std::string_view field(int row, int column) const;
    [[noreturn]] void refuse(int row, int column, std::string_view expected) const;
    std::unique_ptr<PGresult, Clear> r_;
    std::string source_;
};

class Connection {
public:
    // Connects with a 10 s timeout unless the URI sets connect_timeout. Throws StoreError
    // naming the database without its password.
    // `what` names the database in messages ("the baseline database").
    explicit Connection(const std::string& url, std::string what = "the baseline database");
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Runs `script` now and again after every reconnection (temporary tables, settings).
    void on_connect(std::string script);

    // Runs one statement with text parameters ($1, $2...). Throws Error. A connection the
    // server closed (restart, network) is opened again first; StoreError when it cannot be.
    Result exec(std::string_view sql, const std::vector<std::string>& params = {});
    // Several statements separated by semicolons, without parameters.
    void run_script(std::string_view sql);
    // COPY ... FROM STDIN with rows in COPY's text format.
    void copy_in(std::string_view copy_sql, std::string_view rows);
    // The URI without a password, for messages.
    const std::string& name() const { return name_; }
    // For LISTEN: the connection's socket (-1 when it is down) and the channels' payloads that
    // arrived since the last call. A connection found down is left for the next exec().
    int socket() const;
    std::vector<std::string> notifications();

    // BEGIN; body(); COMMIT — again from BEGIN, up to eight times, while the server reports
    // a deadlock or serialisation failure; rolled back on any other error.
    template <class Body>
    auto transaction(Body&& body) -> decltype(body()) {
        for (int attempt = 1;; ++attempt) {
            exec("BEGIN");
            try {
                if constexpr (std::is_void_v<decltype(body())>) {
                    body();
                    exec("COMMIT");
                    return;
                } else {
                    auto result = body();
                    exec("COMMIT");
                    return result;
                }
            } catch (const Error& e) {
                rollback();
                if (!e.retryable() || attempt == 8) throw;
                back_off(attempt);
            } catch (...) {
                rollback();
                throw;
            }
        }
    }

private:
    void ensure_connected();
    void rollback() noexcept;
    static void back_off(int attempt);
    [[noreturn]] void fail(PGresult* r, std::string_view what);

    struct Finish {
        void operator()(PGconn* c) const { PQfinish(c); }
    };
    std::unique_ptr<PGconn, Finish> conn_;
    std::string name_;
    std::string what_;
    std::string on_connect_;
};

// A set of tables whose version wardgate_meta keeps under `meta_key`. The first process that
// finds them missing or older creates them (under the advisory lock `lock`, so two at once
// do it once); tables a newer wardgate wrote are refused rather than misread.
struct Schema {
    const char* meta_key;  // "schema", "policy_schema"
    int64_t version;
    const char* lock;      // pg_advisory_xact_lock key, a constant of wardgate's own
    const char* sql;       // CREATE ... IF NOT EXISTS, wardgate_meta included
    const char* what;      // "the baseline", "policy versions": for the refusal
};
void prepare_schema(Connection& db, const Schema& schema);

// postgresql://user@host:port/dbname: the URI without its password or options, for messages.
// Throws StoreError when it is no connection URI.
std::string display_name(const std::string& url);

// Text forms of values, as parameters or inside COPY rows.
std::string bytea_text(const IpAddress& a);  // \x0a000001
std::string days_text(const DaySet& days);   // {20513,20514}
std::string real_text(double v);             // shortest form that reads back the same double
// A field of a COPY text row: backslash, tab, newline and carriage return escaped.
void append_copy_field(std::string& row, std::string_view text);

}  // namespace wardgate::store_internal::pg
