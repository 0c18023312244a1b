--- flatten(x) and Flatten(): all dimensions but the last merged into one,
-- W×H×C×N → (W·H·C)×N, as Flux's `flatten` (x fastest, then y, then C —
-- the same order as PyTorch's `view(N, -1)` on NCHW).
-- @module cnn.layers.Flatten

local argcheck = require "cnn.argcheck"
local ops = require "cnn.ops"
local base = require "cnn.layers.base"

local flatten = ops.flatten

local Flatten = base.class("Flatten")

function Flatten:check(x)
  return base.check_tensor(x)
end

function Flatten:forward(x)
  return flatten(x)
end

function Flatten:describe()
  return "Flatten()"
end

return {
  flatten = flatten,
  --- The layer form of cnn.flatten: W×H×C×N → (W·H·C)×N.
  -- @function Flatten
  -- @return the layer
  -- @usage cnn.Chain(cnn.Conv({3, 3}, 1, 8), cnn.Flatten(), cnn.Dense(5408, 10))
  Flatten = base.constructor(function(...)
    argcheck.arity("Flatten", 0, "", ...)
    return setmetatable({}, Flatten)
  end, Flatten),
}
