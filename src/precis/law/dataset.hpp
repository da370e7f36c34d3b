// The rows a form is fitted to, taken from a Table and checked: every column the form needs is
// present, every value is a finite number in the form's domain, the target is positive (it is
// fitted in log space), and every input varies (a single N cannot determine an exponent of N).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "precis/law/form.hpp"
#include "precis/law/table.hpp"

namespace precis::law {

struct Dataset {
  const Form* form = nullptr;
  std::string source;
  std::vector<double> x;  // rows × form->inputs.size(), row-major
  std::vector<double> y;  // the observed target, > 0
  // Observed δ_PTQ per row, for loss forms with a PTQ term when the table has a delta_ptq column.
  std::vector<double> delta_ptq;
  std::size_t dropped = 0;  // rows left out because their target was not positive (on request)

  std::size_t rows() const { return y.size(); }
  std::size_t width() const { return form->inputs.size(); }
  const double* row(std::size_t i) const { return x.data() + i * width(); }
  // The distinct values of one input column, sorted.
  std::vector<double> distinct(std::size_t input) const;
};

// `drop_nonpositive` leaves out rows whose target is zero or negative (a PTQ that did not hurt)
// instead of failing on them.
Dataset make_dataset(const Form& form, const Table& table, bool drop_nonpositive = false);

// The rows `keep` of a dataset (for held-out validation).
Dataset subset(const Dataset& data, const std::vector<std::size_t>& keep);

}  // namespace precis::law
