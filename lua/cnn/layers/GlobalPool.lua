--- GlobalMaxPool() and GlobalMeanPool(): pool each channel over the whole
-- image, W×H×C×N → 1×1×C×N, as in Flux.
-- @module cnn.layers.GlobalPool

local argcheck = require "cnn.argcheck"

return function(cnn, base)
  local function global_class(name, kind)
    local Pool = base.class(name)

    function Pool:check(x)
      return base.check_ndims(x, 4, "W×H×C×N")
    end

    function Pool:forward(x)
      local window = {x:size(1), x:size(2)}
      return (cnn.pool2d(kind, x, {window = window, stride = window, pad = {0, 0, 0, 0}}))
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
    GlobalMaxPool = global_class("GlobalMaxPool", "max"),
    GlobalMeanPool = global_class("GlobalMeanPool", "mean"),
  }
end
