--- The Momentum optimiser.
-- @module cnn.optimisers.momentum

local core = require "cnn.core"
local kind = require "cnn.optimisers.kind"

--- Momentum(eta = 0.01, rho = 0.9): v = rho v - eta g; p += v.
-- Fields: `eta` (>= 0), `rho` (in [0, 1)). State per parameter: velocity
-- `v` (zeros at first).
-- @function Momentum
-- @param[opt=0.01] eta the learning rate
-- @param[opt=0.9] rho the momentum
-- @return the optimiser
-- @usage cnn.Momentum(0.01, 0.9)
return kind.velocity(core, "Momentum", 0.01, core.momentum_step)
