--- The Nesterov optimiser.
-- @module cnn.optimisers.nesterov

local core = require "cnn.core"
local kind = require "cnn.optimisers.kind"

--- Nesterov(eta = 0.001, rho = 0.9): Nesterov momentum as Flux writes it,
-- d = rho² v - (1 + rho) eta g; v = rho v - eta g; p += d.
-- Fields: `eta` (>= 0), `rho` (in [0, 1)). State per parameter: velocity `v`.
-- @function Nesterov
-- @param[opt=0.001] eta the learning rate
-- @param[opt=0.9] rho the momentum
-- @return the optimiser
-- @usage cnn.Nesterov()
return kind.velocity(core, "Nesterov", 0.001, core.nesterov_step)
