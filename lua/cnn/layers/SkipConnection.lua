--- The SkipConnection layer.
-- @module cnn.layers.SkipConnection

local argcheck = require "cnn.argcheck"
local base = require "cnn.layers.base"

local SkipConnection = base.class("SkipConnection")

local add = base.add_connection

--- SkipConnection(layer [, connection]): a residual block, as Flux's
-- `SkipConnection(layer, +)`: the output is `connection(layer(x), x)`.
-- `connection` is a function of the layer's output and the input; left
-- out, it is addition (Flux's `+`). The layer's parameters are the
-- block's: `cnn.params`, printing, checkpoints and modes see through it.
-- @function SkipConnection
-- @param layer a layer, a Chain or a function of one tensor
-- @param[opt] connection function(mx, x), addition by default
-- @return the layer
-- @usage local block = cnn.SkipConnection(cnn.Chain(cnn.Conv({3, 3}, 8, 8, {pad = 1}), cnn.relu),
--   function(mx, x) return mx + x end)
local function build(layer, connection, ...)
  argcheck.arity("SkipConnection", 2, "layer, connection", layer, connection, ...)
  argcheck.callable("SkipConnection", "layer", layer, "cnn.Chain(...)")
  if base.is_layer(connection) and not base.is_layer(layer) then
    argcheck.raise(("SkipConnection: the layer comes first: SkipConnection(layer [, connection]); got %s then %s")
      :format(argcheck.describe(layer), argcheck.describe(connection)))
  end
  if connection ~= nil then
    argcheck.callable("SkipConnection", "connection", connection, "function(mx, x) return mx + x end")
  end
  return setmetatable({layer = layer, connection = connection or add}, SkipConnection)
end

function SkipConnection:forward(x)
  return self.connection(self.layer(x), x)
end

function SkipConnection:children()
  return {self.layer}
end

function SkipConnection:describe()
  local conn = self.connection == add and "+" or base.function_name(self.connection)
  return ("SkipConnection(%s, %s)"):format(base.short_text(self.layer), conn)
end

return base.constructor(build, SkipConnection)
