#include "wardgate/core/diagnostic.hpp"

namespace wardgate {

std::string Diagnostic::to_string() const {
    std::string out = file;
    if (line > 0) {
        out += ":" + std::to_string(line);
        if (column > 0) out += ":" + std::to_string(column);
    }
    out += ": ";
    if (!field.empty()) out += field + ": ";
    out += message;
    return out;
}

static std::string join_messages(const std::vector<Diagnostic>& ds) {
    std::string out;
    for (const auto& d : ds) {
        if (!out.empty()) out += "\n";
        out += d.to_string();
    }
    return out;
}

InputError::InputError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join_messages(diagnostics)), diagnostics_(std::move(diagnostics)) {}

InputError::InputError(Diagnostic diagnostic) : InputError(std::vector<Diagnostic>{std::move(diagnostic)}) {}

void Diagnostics::throw_if_any() const {
    if (!items_.empty()) throw InputError(items_);
}

}  // namespace wardgate
