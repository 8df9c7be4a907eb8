#include "mud_lines.hpp"

#include <iterator>
#include <vector>

#include <nlohmann/json.hpp>

namespace wardgate::mud_detail {

namespace {

using nlohmann::json;

// A char iterator that publishes how far the parser has read.
struct CountingIterator {
    using iterator_category = std::input_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char*;
    using reference = const char&;

    const char* at = nullptr;
    const char** read_up_to = nullptr;

    reference operator*() const { return *at; }
    CountingIterator& operator++() {
        *read_up_to = ++at;
        return *this;
    }
    CountingIterator operator++(int) {
        auto old = *this;
        ++*this;
        return old;
    }
    bool operator==(const CountingIterator& o) const { return at == o.at; }
};

// Events arrive right after their token ('{', '[' or a key's closing quote) is read, so the
// parser's read position gives the token's line.
class LineRecorder : public nlohmann::json_sax<json> {
public:
    LineRecorder(const std::string& text, const char* const& read_up_to, std::map<std::string, int>& lines)
        : text_(text), read_up_to_(read_up_to), lines_(lines) {}

    bool key(string_t& k) override {
        stack_.back().key = k;
        lines_[element_pointer()] = line_now();
        return true;
    }
    bool start_object(std::size_t) override { return open(false); }
    bool start_array(std::size_t) override { return open(true); }
    bool end_object() override { return close(); }
    bool end_array() override { return close(); }
    bool null() override { return value(); }
    bool boolean(bool) override { return value(); }
    bool number_integer(number_integer_t) override { return value(); }
    bool number_unsigned(number_unsigned_t) override { return value(); }
    bool number_float(number_float_t, const string_t&) override { return value(); }
    bool string(string_t&) override { return value(); }
    bool binary(binary_t&) override { return value(); }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

private:
    struct Frame {
        bool array = false;
        size_t index = 0;
        std::string key;
        std::string pointer;
    };

    std::string element_pointer() const {
        if (stack_.empty()) return "";
        const Frame& f = stack_.back();
        return f.array ? f.pointer + "/" + std::to_string(f.index) : pointer_child(f.pointer, f.key);
    }

    int line_now() {
        size_t end = static_cast<size_t>(read_up_to_ - text_.data());
        for (; counted_ < end && counted_ < text_.size(); ++counted_)
            if (text_[counted_] == '\n') ++line_;
        return line_;
    }

    bool open(bool array) {
        std::string p = element_pointer();
        if (stack_.empty() || stack_.back().array) lines_[p] = line_now();
        stack_.push_back({array, 0, "", p});
        return true;
    }
    bool close() {
        stack_.pop_back();
        return value();
    }
    bool value() {
        if (!stack_.empty() && stack_.back().array) ++stack_.back().index;
        return true;
    }

    const std::string& text_;
    const char* const& read_up_to_;
    std::map<std::string, int>& lines_;
    std::vector<Frame> stack_;
    size_t counted_ = 0;
    int line_ = 1;
};

}  // namespace

std::map<std::string, int> json_pointer_lines(const std::string& text) {
    std::map<std::string, int> lines;
    const char* read_up_to = text.data();
    LineRecorder recorder(text, read_up_to, lines);
    CountingIterator first{text.data(), &read_up_to}, last{text.data() + text.size(), &read_up_to};
    json::sax_parse(first, last, &recorder);
    return lines;
}

int line_of(const std::map<std::string, int>& lines, std::string pointer) {
    while (true) {
        if (auto it = lines.find(pointer); it != lines.end()) return it->second;
        auto slash = pointer.rfind('/');
        if (slash == std::string::npos) return 0;
        pointer.erase(slash);
    }
}

std::string pointer_child(const std::string& pointer, std::string_view key) {
    std::string out = pointer + "/";
    for (char c : key) {
        if (c == '~') {
            out += "~0";
        } else if (c == '/') {
            out += "~1";
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace wardgate::mud_detail
