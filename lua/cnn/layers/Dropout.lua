--- The Dropout layer.
-- @module cnn.layers.Dropout

local argcheck = require "cnn.argcheck"
local ops = require "cnn.ops"
local base = require "cnn.layers.base"

local Dropout = base.class("Dropout")

--- Dropout(p), p in [0, 1): while active, zeroes each element with
-- probability p and scales the rest by 1/(1-p); inactive, the identity.
-- As in Flux it is active while a gradient is taken (mode "auto"), or
-- always/never after `cnn.trainmode(m)` / `cnn.testmode(m)`.
-- @function Dropout
-- @param p the probability of zeroing, in [0, 1)
-- @return the layer
-- @usage cnn.Chain(cnn.Dense(784, 128, cnn.relu), cnn.Dropout(0.5), cnn.Dense(128, 10))
local function build(p, ...)
  argcheck.arity("Dropout", 1, "p", p, ...)
  argcheck.number("Dropout", "p", p, "[0, 1)")
  return setmetatable({p = p, mode = "auto"}, Dropout)
end

function Dropout:check(x)
  return base.check_tensor(x, "Float32")
end

function Dropout:forward(x)
  return ops.dropout(x, self.p, base.is_active(self.mode))
end

Dropout.set_mode = base.set_mode

function Dropout:describe()
  return ("Dropout(%s)"):format(self.p)
end

return base.constructor(build, Dropout)
