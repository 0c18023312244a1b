--- Momentum(eta = 0.01, rho = 0.9): v = rho v - eta g; p += v.
-- Fields: `eta`, `rho`. State per parameter: velocity `v` (zeros at first).
-- @module cnn.optimisers.momentum

return function(core, Optimiser)
  local function step(o, p, g, s)
    s.v = s.v or core.zeros(p:size())
    core.momentum_step(p, g, s.v, o.eta, o.rho)
  end

  return function(eta, rho)
    return Optimiser.new("Momentum", {eta = eta or 0.01, rho = rho or 0.9}, step, {"eta", "rho"})
  end
end
