--- The Descent optimiser.
-- @module cnn.optimisers.descent

local core = require "cnn.core"

--- Descent(eta = 0.1): plain gradient descent, p -= eta g.
-- Fields: `eta` (>= 0). State: none.
-- @function Descent
-- @param[opt=0.1] eta the learning rate
-- @return the optimiser
-- @usage cnn.Descent(0.1)
local function step(o, p, g, _, pre)
  core.descent_step(p, g, o.eta, pre)
end

return {
  name = "Descent",
  step = step,
  hyperparameters = {{"eta", 0.1, "rate"}},
}
