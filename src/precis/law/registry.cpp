// The law forms by name. Adding a form: one file under forms/ and one line in each list below.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "precis/core/error.hpp"
#include "precis/law/form.hpp"

namespace precis::law {

const Form& chinchilla_form();
const Form& ptq_degradation_form();
const Form& effective_params_form();
const Form& effective_params_offsets_form();
const Form& ptq_after_qat_form();
const Form& unified_form();
const Form& ouyang_form();
const Form& chen_form();

const std::vector<const Form*>& all_forms() {
  static const std::vector<const Form*> forms = {
      &chinchilla_form(),       &ptq_degradation_form(),
      &effective_params_form(), &effective_params_offsets_form(),
      &ptq_after_qat_form(),    &unified_form(),
      &ouyang_form(),           &chen_form(),
  };
  return forms;
}

const Form& find_form(std::string_view name) {
  std::vector<std::string> names;
  for (const Form* form : all_forms()) {
    if (form->name == name) return *form;
    names.push_back(form->name);
  }
  fail("unknown law form '{}': choose one of {}", name, fmt::join(names, ", "));
}

}  // namespace precis::law
