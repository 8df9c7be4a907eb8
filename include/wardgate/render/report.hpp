#pragma once
// The HTML of `wardgate report`: the model (plan/report.hpp) through templates/report/.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace wardgate {

// Values are HTML-escaped except the ones the template takes raw ({{{...}}}: the SVGs).
std::string render_report_html(const nlohmann::json& model, const std::filesystem::path& template_dir);

}  // namespace wardgate
