#include "precis/law/dataset.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "precis/core/error.hpp"

namespace precis::law {

std::vector<double> Dataset::distinct(std::size_t input) const {
  std::vector<double> values;
  for (std::size_t r = 0; r < rows(); ++r) values.push_back(row(r)[input]);
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

Dataset make_dataset(const Form& form, const Table& table, bool drop_nonpositive) {
  std::vector<std::string> needed = form.inputs;
  needed.push_back(form.target);
  std::vector<std::string> missing;
  for (const auto& c : needed) {
    if (!table.has(c)) missing.push_back(c);
  }
  require(missing.empty(),
          "{}: column(s) {} missing; law form '{}' needs columns {} (present: {}). See "
          "docs/laws.md for the column names",
          table.source(), fmt::join(missing, ", "), form.name, fmt::join(needed, ", "),
          fmt::join(table.columns(), ", "));
  require(table.rows() > 0, "{}: no data rows", table.source());

  std::vector<std::vector<double>> inputs;
  for (const auto& c : form.inputs) inputs.push_back(table.numbers(c));
  std::vector<double> target = table.numbers(form.target);
  std::vector<double> delta;
  bool with_delta = form.delta_ptq && table.has("delta_ptq");
  if (with_delta) delta = table.numbers("delta_ptq");

  Dataset data;
  data.form = &form;
  data.source = table.source();
  std::vector<double> row(form.inputs.size());
  for (std::size_t r = 0; r < table.rows(); ++r) {
    for (std::size_t i = 0; i < form.inputs.size(); ++i) {
      double v = inputs[i][r];
      const std::string& name = form.inputs[i];
      // In a loss form P_post may be inf (no PTQ); every other input must be finite.
      bool ok = name == "P_post" && form.predicts_loss() ? !std::isnan(v) : std::isfinite(v);
      require(ok, "{}: row {}: {} is {}; every input must be a finite number", table.source(),
              r + 1, name, table.cell(r, name).empty() ? "empty" : table.cell(r, name));
      require(v > 0, "{}: row {}: {} = {} must be positive", table.source(), r + 1, name, v);
      row[i] = v;
    }
    double y = target[r];
    require(std::isfinite(y), "{}: row {}: {} is {}; remove the row or rerun the measurement",
            table.source(), r + 1, form.target,
            table.cell(r, form.target).empty() ? "empty" : table.cell(r, form.target));
    if (y <= 0) {
      require(drop_nonpositive,
              "{}: row {}: {} = {} is not positive; laws are fitted on its logarithm. Remove the "
              "row, or pass --drop-nonpositive to leave such rows out",
              table.source(), r + 1, form.target, y);
      ++data.dropped;
      continue;
    }
    if (form.check_row) {
      std::string why = form.check_row(row.data());
      require(why.empty(), "{}: row {}: {}", table.source(), r + 1, why);
    }
    data.x.insert(data.x.end(), row.begin(), row.end());
    data.y.push_back(y);
    if (with_delta) data.delta_ptq.push_back(delta[r]);
  }
  require(data.rows() > 0, "{}: no rows left after dropping {} non-positive {} values",
          table.source(), data.dropped, form.target);
  for (std::size_t i = 0; i < form.inputs.size(); ++i) {
    auto values = data.distinct(i);
    require(values.size() >= 2,
            "{}: every row has {} = {}: law form '{}' cannot determine how the {} depends on {} "
            "from a single value. Add rows with other values of {}, or use a form without it",
            table.source(), form.inputs[i], values.front(), form.name, form.target, form.inputs[i],
            form.inputs[i]);
  }
  return data;
}

Dataset subset(const Dataset& data, const std::vector<std::size_t>& keep) {
  Dataset out;
  out.form = data.form;
  out.source = data.source;
  for (std::size_t r : keep) {
    out.x.insert(out.x.end(), data.row(r), data.row(r) + data.width());
    out.y.push_back(data.y[r]);
    if (!data.delta_ptq.empty()) out.delta_ptq.push_back(data.delta_ptq[r]);
  }
  return out;
}

}  // namespace precis::law
