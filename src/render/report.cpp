#include "wardgate/render/report.hpp"

#include <kainjow/mustache.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace wardgate {

namespace {

using kainjow::mustache::data;

data to_data(const nlohmann::json& j) {
    switch (j.type()) {
        case nlohmann::json::value_t::object: {
            data d{data::type::object};
            for (const auto& [k, v] : j.items()) d.set(k, to_data(v));
            return d;
        }
        case nlohmann::json::value_t::array: {
            data d{data::type::list};
            for (const auto& v : j) d.push_back(to_data(v));
            return d;
        }
        case nlohmann::json::value_t::string: return data(j.get<std::string>());
        case nlohmann::json::value_t::boolean: return j.get<bool>() ? data(data::type::bool_true) : data(data::type::bool_false);
        case nlohmann::json::value_t::null: return data(data::type::bool_false);
        default: return data(j.dump());
    }
}

std::string read_template(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read template " + path.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

std::string render_report_html(const nlohmann::json& model, const std::filesystem::path& template_dir) {
    const auto dir = template_dir / "report";
    kainjow::mustache::mustache page{read_template(dir / "report.mustache")};
    if (!page.is_valid()) throw std::runtime_error("template " + (dir / "report.mustache").string() + ": " + page.error_message());
    data root = to_data(model);
    root.set("style", data(read_template(dir / "style.css")));
    std::string out = page.render(root);
    if (!page.is_valid()) throw std::runtime_error("template " + (dir / "report.mustache").string() + ": " + page.error_message());
    return out;
}

}  // namespace wardgate
