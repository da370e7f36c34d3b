#include "precis/law/fit_law.hpp"

#include <algorithm>
#include <cmath>

#include "precis/core/error.hpp"

namespace precis::law {

LawFile fit_law(const Table& table, const FitRequest& request) {
  const Form& form = find_form(request.form);
  require(request.level > 0 && request.level < 1, "--level {} must lie strictly between 0 and 1",
          request.level);
  tie_map(form, request.tie_alpha_beta);  // a form without α and β fails before reading data
  std::optional<HoldoutSpec> holdout;
  if (!request.holdout.empty()) holdout = parse_holdout(request.holdout);
  Dataset data = make_dataset(form, table, request.drop_nonpositive);
  FitOptions options;
  options.tie_alpha_beta = request.tie_alpha_beta;
  options.threads = request.threads;
  Fitter fitter(data, options);

  LawFile law;
  law.form = form.name;
  law.tie_alpha_beta = request.tie_alpha_beta;
  law.huber_delta = options.huber_delta;
  law.fit = fitter.fit_grid();
  for (const auto& p : form.params) law.grid.push_back(p.grid);
  law.quality = score(law.params(), data);
  if (holdout) {
    law.holdout = holdout->scheme == "largest-N"
                      ? holdout_largest_n(fitter)
                      : holdout_kfold(fitter, holdout->folds, request.seed, law.params());
  }
  BootstrapOptions boot;
  boot.resamples = request.bootstrap;
  boot.seed = request.seed;
  boot.threads = request.threads;
  boot.progress = request.progress;
  BootstrapResult samples = bootstrap(fitter, law.params(), boot);
  require(request.bootstrap == 0 || samples.params.size() >= 2,
          "only {} of {} bootstrap refits converged: the fit is not stable under resampling. "
          "Check the data, or fit a smaller form",
          samples.params.size(), request.bootstrap);
  law.level = request.level;
  law.bootstrap_resamples = samples.resamples;
  law.bootstrap_failed = samples.failed;
  law.constants = summarise(form, law.params(), samples.params, request.level);
  law.bootstrap_params = std::move(samples.params);
  law.seed = request.seed;
  law.threads = request.threads;
  describe_data(law, data);
  return law;
}

Prediction predict(const LawFile& law, const std::vector<double>& x) {
  const Form& form = find_form(law.form);
  require(x.size() == form.inputs.size(), "law form '{}' needs {} inputs, got {}", form.name,
          form.inputs.size(), x.size());
  if (form.check_row) {
    std::string why = form.check_row(x.data());
    require(why.empty(), "cannot predict there: {}", why);
  }
  auto value = [&](const std::vector<double>& p) {
    return std::exp(form.log_predict(p.data(), x.data()));
  };
  auto delta = [&](const std::vector<double>& p) {
    return form.delta_ptq ? form.delta_ptq(p.data(), x.data()) : 0.0;
  };
  Prediction out;
  out.value = value(law.params());
  out.delta_ptq = delta(law.params());
  require(std::isfinite(out.value),
          "the law predicts no finite value at these inputs (outside its domain: e.g. a precision "
          "at or below an offset)");
  std::vector<double> values, deltas;
  for (const auto& s : law.bootstrap_params) {
    double v = value(s);
    if (std::isfinite(v)) {
      values.push_back(v);
      deltas.push_back(delta(s));
    }
  }
  out.lo = out.hi = out.value;
  out.delta_lo = out.delta_hi = out.delta_ptq;
  if (values.size() >= 2) {
    std::sort(values.begin(), values.end());
    std::sort(deltas.begin(), deltas.end());
    double tail = (1 - law.level) / 2;
    out.lo = quantile_sorted(values, tail);
    out.hi = quantile_sorted(values, 1 - tail);
    out.delta_lo = quantile_sorted(deltas, tail);
    out.delta_hi = quantile_sorted(deltas, 1 - tail);
  }
  return out;
}

}  // namespace precis::law
