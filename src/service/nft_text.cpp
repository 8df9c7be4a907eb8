// libnftables with buffered output: listing and restoring one table as text.
#include "wardgate/service/nft_text.hpp"

#include <nftables/libnftables.h>

#include <memory>
#include <stdexcept>

namespace wardgate::service {

namespace {

struct CtxDeleter {
    void operator()(nft_ctx* c) const { nft_ctx_free(c); }
};

struct NftRun {
    int rc = 0;
    std::string out, err;
};

NftRun run(const std::string& commands, bool dry_run) {
    std::unique_ptr<nft_ctx, CtxDeleter> ctx(nft_ctx_new(NFT_CTX_DEFAULT));
    if (!ctx) throw std::runtime_error("libnftables: cannot create a context");
    nft_ctx_output_set_flags(ctx.get(), NFT_CTX_OUTPUT_STATELESS);
    nft_ctx_buffer_output(ctx.get());
    nft_ctx_buffer_error(ctx.get());
    nft_ctx_set_dry_run(ctx.get(), dry_run);
    NftRun r;
    r.rc = nft_run_cmd_from_buffer(ctx.get(), commands.c_str());
    if (const char* o = nft_ctx_get_output_buffer(ctx.get())) r.out = o;
    if (const char* e = nft_ctx_get_error_buffer(ctx.get())) r.err = e;
    return r;
}

bool table_exists(const std::string& table) {
    NftRun r = run("list tables inet", false);
    if (r.rc != 0) throw std::runtime_error("nft list tables: " + r.err);
    return r.out.find("table inet " + table + "\n") != std::string::npos;
}

}  // namespace

std::optional<std::string> list_table_text(const std::string& table) {
    NftRun r = run("list table inet " + table, false);
    if (r.rc == 0) return r.out;
    if (!table_exists(table)) return std::nullopt;
    throw std::runtime_error("nft list table inet " + table + ": " + r.err);
}

void restore_table_text(const std::string& table, const std::optional<std::string>& text, bool dry_run) {
    // Creating the table first makes the delete valid when it is absent.
    std::string script = "table inet " + table + "\ndelete table inet " + table + "\n";
    if (text) script += *text;
    NftRun r = run(script, dry_run);
    if (r.rc != 0)
        throw std::runtime_error("nft refused to restore table inet " + table + (dry_run ? " (check)" : "") + ": " + r.err);
}

}  // namespace wardgate::service
