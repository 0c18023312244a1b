--- Momentum(eta = 0.01, rho = 0.9): v = rho v - eta g; p += v.
-- Fields: `eta`, `rho`. State per parameter: velocity `v` (zeros at first).
-- @module cnn.optimisers.momentum

return function(core, Optimiser)
  return Optimiser.velocity_kind(core, "Momentum", 0.01, core.momentum_step)
end
