--- The Parallel layer.
-- @module cnn.layers.Parallel

local argcheck = require "cnn.argcheck"
local errors = require "cnn.errors"
local base = require "cnn.layers.base"

local Parallel = base.class("Parallel")

--- Parallel(connection, layer1, layer2, ...): the layers each applied to
-- the same input, their outputs combined, as Flux's `Parallel`: the
-- output is `connection(layer1(x), layer2(x), ...)`. Their parameters
-- are the block's, in the layers' order.
-- @function Parallel
-- @param connection a function of as many outputs as there are layers
-- @param ... the layers (at least one)
-- @return the layer
-- @usage local two = cnn.Parallel(function(a, b) return a + b end,
--   cnn.Dense(4, 2), cnn.Dense(4, 2))
local function build(connection, ...)
  if base.is_layer(connection) then
    errors.raise(("Parallel: the connection comes first: Parallel(connection, layer1, layer2, ...), "
      .. "such as Parallel(function(a, b) return a + b end, ...); got %s first"):format(argcheck.describe(connection)))
  end
  argcheck.callable("Parallel", "connection", connection, "function(a, b) return a + b end")
  local layers = table.pack(...)
  if layers.n == 0 then
    errors.raise("Parallel: expected a connection and at least one layer, got no layer")
  end
  for i = 1, layers.n do
    argcheck.callable("Parallel", ("layer %d"):format(i), layers[i], "cnn.Dense(4, 2)")
  end
  layers.n = nil
  return setmetatable({connection = connection, layers = layers}, Parallel)
end

function Parallel:forward(x)
  local ys = {}
  for i, l in ipairs(self.layers) do ys[i] = l(x) end
  return self.connection(table.unpack(ys, 1, #self.layers))
end

function Parallel:children()
  return self.layers
end

function Parallel:describe()
  local parts = {base.function_name(self.connection)}
  for i, l in ipairs(self.layers) do parts[i + 1] = base.short_text(l) end
  return "Parallel(" .. table.concat(parts, ", ") .. ")"
end

return base.constructor(build, Parallel)
