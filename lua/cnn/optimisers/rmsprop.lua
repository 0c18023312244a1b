--- RMSProp(eta = 0.001, rho = 0.9, eps = 1e-8):
-- a = rho a + (1 - rho) g²; p -= eta g / (√a + eps).
-- Fields: `eta`, `rho`, `eps`. State per parameter: accumulator `acc`.
-- @module cnn.optimisers.rmsprop

return function(core, Optimiser)
  local function step(o, p, g, s)
    s.acc = s.acc or core.zeros(p:size())
    core.rmsprop_step(p, g, s.acc, o.eta, o.rho, o.eps)
  end

  return function(eta, rho, eps)
    return Optimiser.new("RMSProp", {eta = eta or 0.001, rho = rho or 0.9, eps = eps or 1e-8},
                         step, {"eta", "rho", "eps"}, {eps = 1e-8})
  end
end
