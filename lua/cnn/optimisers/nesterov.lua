--- Nesterov(eta = 0.001, rho = 0.9): Nesterov momentum as Flux writes it,
-- d = rho² v - (1 + rho) eta g; v = rho v - eta g; p += d.
-- Fields: `eta`, `rho`. State per parameter: velocity `v`.
-- @module cnn.optimisers.nesterov

return function(core, Optimiser)
  return Optimiser.velocity_kind(core, "Nesterov", 0.001, core.nesterov_step)
end
