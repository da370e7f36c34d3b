// A law form: the equation of a scaling law as data the fitter, the predictor and the CLI share.
//
// Each form is one small file under forms/ that declares its parameters (names, bounds, a grid of
// initial values, and the published constant each maps to) and one templated evaluation of the log
// of its prediction, which Ceres differentiates automatically (form_impl.hpp). registry.cpp lists
// the forms by name.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ceres {
class CostFunction;
}

namespace precis::law {

// The rows one Ceres solve sees: `rows` index into the row-major inputs `x` (width columns) and the
// observed log targets; an index may repeat (bootstrap resamples). Must outlive the solve.
struct Rows {
  const double* x;
  const double* log_y;
  const std::size_t* rows;
  std::size_t count;
  std::size_t width;
  const int* alias;  // q[k] = p[alias[k]]: ties parameters
  double huber_delta;
};

struct Parameter {
  std::string name;      // as fitted, e.g. "a" for log A
  std::string constant;  // the constant reported to people, e.g. "A"
  bool log_scale;        // constant = exp(parameter): fitted in log space
  double lower;
  double upper;
  std::vector<double> grid;  // initial values; the fit starts from every point of the product
};

struct Form {
  std::string name;
  std::string equation;             // one line, for help text and law.json
  std::vector<std::string> inputs;  // columns the evaluation reads, in the order it reads them
  std::string target;               // column of the observed quantity: "loss" or "delta_ptq"
  std::vector<Parameter> params;

  // log of the predicted target for parameters p at input row x.
  double (*log_predict)(const double* p, const double* x) = nullptr;
  // One Ceres cost over all `rows`: residual i is the square root of twice the Huber loss of
  // log_predict(q, x_i) - log_y_i (with its sign), so Ceres' cost ½Σr² is the summed Huber loss.
  ceres::CostFunction* (*make_cost)(const Rows& rows) = nullptr;
  // Why input row x lies outside the form's domain ("" when it does not).
  std::string (*check_row)(const double* x) = nullptr;
  // For loss forms with a PTQ term: the δ_PTQ part of the prediction (R² is reported on it).
  double (*delta_ptq)(const double* p, const double* x) = nullptr;

  int index_of(std::string_view param) const {
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (params[i].name == param) return static_cast<int>(i);
    }
    return -1;
  }
  int input_index(std::string_view column) const {
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i] == column) return static_cast<int>(i);
    }
    return -1;
  }
  bool predicts_loss() const { return target == "loss"; }
};

// Every form, in the order `precis fit --help` lists them.
const std::vector<const Form*>& all_forms();

// The form called `name`; throws listing the known names when there is none.
const Form& find_form(std::string_view name);

}  // namespace precis::law
