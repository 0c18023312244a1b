--- Momentum(eta = 0.01, rho = 0.9): v = rho v - eta g; p += v.
-- Fields: `eta` (>= 0), `rho` (in [0, 1)). State per parameter: velocity
-- `v` (zeros at first).
-- @module cnn.optimisers.momentum

return function(core, kind)
  return kind.velocity(core, "Momentum", 0.01, core.momentum_step)
end
