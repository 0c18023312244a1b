--- Nesterov(eta = 0.001, rho = 0.9): Nesterov momentum as Flux writes it,
-- d = rho² v - (1 + rho) eta g; v = rho v - eta g; p += d.
-- Fields: `eta`, `rho`. State per parameter: velocity `v`.
-- @module cnn.optimisers.nesterov

return function(core, Optimiser)
  local function step(o, p, g, s)
    s.v = s.v or core.zeros(p:size())
    core.nesterov_step(p, g, s.v, o.eta, o.rho)
  end

  return function(eta, rho)
    return Optimiser.new("Nesterov", {eta = eta or 0.001, rho = rho or 0.9}, step, {"eta", "rho"})
  end
end
