// What a law says to do: the critical data size D_crit past which more data hurts a quantized
// model, the compute-optimal training precision P*, the compute-optimal N* and D* for a budget
// under C = (6/16)·N·D·P, and the optimum when serving the model also costs compute.
//
// All functions take named constants (constants.hpp); offsets n_x are used when present, so the
// two readings of the paper's constants are two LawConstants.
#pragma once

#include "precis/law/constants.hpp"

namespace precis::law {

struct Precision {
  double w = 16, a = 16, kv = 16;
};

// f = N_eff/N = Π_x (1 - exp(-(P_x/γ_x - n_x))) (n_x = 0 when absent); 0 outside the domain.
double effective_fraction(const LawConstants& c, const Precision& p);

// Predicted loss after training at `train` and post-training quantization of the weights to
// `p_post` bits (inf: none). The PTQ term is Eq. 9 when the law has C_w, C_a, C_kv, else Eq. 2
// (high-precision training).
double predict_loss(const LawConstants& c, double n, double d, const Precision& train,
                    double p_post);

// D_crit where dL/dD = 0: closed form (β·B / (γ_D·K))^(1/(γ_D+β)) with K the PTQ term's
// coefficient of D^γ_D, and the minimiser of predict_loss over D found numerically.
struct DCrit {
  double closed_form = 0;
  double numeric = 0;
};
DCrit d_crit(const LawConstants& c, double n, const Precision& train, double p_post);

// P* = argmax f(P)/P with P_w = P_a = P_kv = P: the precision that buys the most effective
// parameters per bit (independent of compute). Found numerically on [1, 32] bits.
double optimal_precision(const LawConstants& c);

// The root x* of 3x = e^x - 1: with three tied factors and no offsets, P* = x*·γ̄ ≈ 1.90·γ̄.
double tied_precision_ratio();

// Compute-optimal N*, D* for a budget of C FLOPs at training precision P (all components):
// N·D = 16·C/(6·P), N* = (α·A'/(β·B))^(1/(α+β))·(N·D)^(β/(α+β)) with A' = A·f(P)^-α.
struct ComputeOptimum {
  double budget = 0, precision = 0, n = 0, d = 0, loss = 0;
};
ComputeOptimum compute_optimal(const LawConstants& c, double budget, double precision);

// The same minimum found numerically (golden section on log N), to check the closed form.
double compute_optimal_n_numeric(const LawConstants& c, double budget, double precision);

// Inference-cost-aware optimum: the model is trained on D tokens and then serves T tokens, both at
// precision P (quantization-aware training, served as trained). Training costs (6/16)·N·D·P and
// serving (2/16)·N·P·T FLOPs; for a total budget C this minimises the loss over N, D and P.
struct InferenceOptimum {
  double budget = 0, served = 0, precision = 0, n = 0, d = 0, loss = 0;
  double serving_share = 0;  // fraction of the budget spent serving
};
InferenceOptimum inference_optimal(const LawConstants& c, double budget, double served_tokens);

}  // namespace precis::law
