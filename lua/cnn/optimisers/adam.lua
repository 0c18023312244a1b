--- ADAM(eta = 0.001, beta = {0.9, 0.999}, eps = 1e-8), also `Adam`:
-- m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g²;
-- p -= eta m̂ / (√v̂ + eps) with m̂ = m / (1 - b1^t), v̂ = v / (1 - b2^t),
-- t the step count of that parameter (Flux's and PyTorch's form: eps is
-- added to √v̂).
-- Fields: `eta`, `beta` ({b1, b2}), `eps`. State per parameter: moments
-- `m`, `v` and step count `t`.
-- @module cnn.optimisers.adam

return function(core, Optimiser)
  local function step(o, p, g, s)
    if not s.m then
      s.m, s.v, s.t = core.zeros(p:size()), core.zeros(p:size()), 0
    end
    s.t = s.t + 1
    core.adam_step(p, g, s.m, s.v, o.eta, o.beta[1], o.beta[2], o.eps, s.t)
  end

  return function(eta, beta, eps)
    beta = beta or {0.9, 0.999}
    return Optimiser.new("ADAM", {eta = eta or 0.001, beta = {beta[1], beta[2]}, eps = eps or 1e-8},
                         step, {"eta", "beta", "eps"}, {eps = 1e-8})
  end
end
