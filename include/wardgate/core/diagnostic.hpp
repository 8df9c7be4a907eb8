#pragma once
// Errors are values with a location. Loaders collect them and report together.
#include <stdexcept>
#include <string>
#include <vector>

namespace wardgate {

struct Diagnostic {
    std::string file;
    int line = 0;    // 1-based; 0 when the error is about the whole file
    int column = 0;  // 1-based; 0 when the parser does not know it
    std::string field;
    std::string message;

    // "file:line:column: field: message"
    std::string to_string() const;
};

// Thrown when one or more inputs are invalid; holds every diagnostic found.
class InputError : public std::runtime_error {
public:
    explicit InputError(std::vector<Diagnostic> diagnostics);
    explicit InputError(Diagnostic diagnostic);
    const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

private:
    std::vector<Diagnostic> diagnostics_;
};

class Diagnostics {
public:
    void add(Diagnostic d) { items_.push_back(std::move(d)); }
    void add(std::string file, int line, int column, std::string field, std::string message) {
        items_.push_back({std::move(file), line, column, std::move(field), std::move(message)});
    }
    bool empty() const { return items_.empty(); }
    const std::vector<Diagnostic>& items() const { return items_; }
    // Throws InputError holding everything collected, if anything was.
    void throw_if_any() const;

private:
    std::vector<Diagnostic> items_;
};

}  // namespace wardgate
