--- GlobalMaxPool() and GlobalMeanPool(): pool each channel over the whole
-- image, W×H×C×N → 1×1×C×N, as in Flux.
-- @module cnn.layers.GlobalPool

local argcheck = require "cnn.argcheck"
local ops = require "cnn.ops"
local base = require "cnn.layers.base"

local function global_class(name, kind)
  local Pool = base.class(name)

  function Pool:check(x)
    return base.check_ndims(x, 4, "W×H×C×N")
  end

  function Pool:forward(x)
    local window = {x:size(1), x:size(2)}
    return (ops.pool2d(kind, x, {window = window, stride = window, pad = {0, 0, 0, 0}}))
  end

  function Pool:describe()
    return name .. "()"
  end

  return base.constructor(function(...)
    argcheck.arity(name, 0, "", ...)
    return setmetatable({}, Pool)
  end, Pool)
end

return {
  --- The maximum of each channel over the whole image: W×H×C×N → 1×1×C×N.
  -- @function GlobalMaxPool
  -- @return the layer
  -- @usage cnn.Chain(cnn.Conv({3, 3}, 1, 8), cnn.GlobalMaxPool(), cnn.flatten)
  GlobalMaxPool = global_class("GlobalMaxPool", "max"),
  --- The mean of each channel over the whole image: W×H×C×N → 1×1×C×N.
  -- @function GlobalMeanPool
  -- @return the layer
  -- @usage cnn.GlobalMeanPool()(x)
  GlobalMeanPool = global_class("GlobalMeanPool", "mean"),
}
