--- AdamW(eta = 0.001, beta = {0.9, 0.999}, decay = 0, eps = 1e-8), also
-- `ADAMW`: Flux's AdamW, the ADAM step followed by weight decay,
-- p -= eta m̂ / (√v̂ + eps) + decay p. As in Flux (Optimiser(ADAM,
-- WeightDecay(decay))) the decay is not scaled by eta.
-- Fields: `eta`, `beta`, `decay`, `eps`. State as ADAM's.
-- @module cnn.optimisers.adamw

return function(core, Optimiser)
  local function step(o, p, g, s)
    if not s.m then
      s.m, s.v, s.t = core.zeros(p:size()), core.zeros(p:size()), 0
    end
    s.t = s.t + 1
    core.adamw_step(p, g, s.m, s.v, o.eta, o.beta[1], o.beta[2], o.eps, s.t, o.decay)
  end

  return function(eta, beta, decay, eps)
    beta = beta or {0.9, 0.999}
    return Optimiser.new("AdamW", {eta = eta or 0.001, beta = {beta[1], beta[2]},
                                   decay = decay or 0, eps = eps or 1e-8},
                         step, {"eta", "beta", "decay", "eps"}, {decay = 0, eps = 1e-8})
  end
end
