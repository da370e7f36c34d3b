// Synthetic data drawn from a law form with known constants: every combination of the design's
// values, the form's prediction times (1 + noise·z) with z standard normal from the counter RNG.
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "precis/core/rng.hpp"
#include "precis/law/form.hpp"
#include "precis/law/table.hpp"

namespace precis::law::testing {

// Internal parameters from constants given by constant name (log of log-scale ones).
inline std::vector<double> params_from_constants(const Form& form,
                                                 const std::map<std::string, double>& constants) {
  std::vector<double> p;
  for (const auto& param : form.params) {
    double c = constants.at(param.constant);
    p.push_back(param.log_scale ? std::log(c) : c);
  }
  return p;
}

using Tuples = std::vector<std::vector<double>>;

// Every combination of one tuple from each block, concatenated: blocks {{N1}, {N2}} and
// {{16, 16, 16}, {4, 4, 4}} give four rows N, P_w, P_a, P_kv.
inline Tuples product(const std::vector<Tuples>& blocks) {
  Tuples rows = {{}};
  for (const auto& block : blocks) {
    Tuples next;
    for (const auto& row : rows) {
      for (const auto& t : block) {
        next.push_back(row);
        next.back().insert(next.back().end(), t.begin(), t.end());
      }
    }
    rows = std::move(next);
  }
  return rows;
}

// One block of single values.
inline Tuples values(std::initializer_list<double> v) {
  Tuples out;
  for (double x : v) out.push_back({x});
  return out;
}

// Rows x (in the form's input order) with the form's prediction times 1 + noise·z.
inline Table synthetic_table(const Form& form, const std::vector<double>& p, const Tuples& rows,
                             double noise, std::uint64_t seed) {
  std::vector<std::string> columns = form.inputs;
  columns.push_back(form.target);
  Table table("synthetic " + form.name, columns);
  CounterRng rng(seed, 0);
  std::uint64_t draw = 0;
  for (const auto& x : rows) {
    std::vector<std::string> cells;
    for (double v : x) cells.push_back(fmt::format("{}", v));
    double y = std::exp(form.log_predict(p.data(), x.data()));
    y *= 1 + noise * rng.normal(draw++);
    cells.push_back(fmt::format("{}", y));
    table.add_row(cells);
  }
  return table;
}

}  // namespace precis::law::testing
