--- Sums and means, of all elements or along one dimension.
-- @module cnn.ops.reductions

local core = require "cnn.core"
local autograd = require "cnn.autograd"

local op = autograd.op

local ops = {}

-- Reductions ---------------------------------------------------------

-- gy spread back over `sizes` (the reverse of a reduction).
local function spread(gy, sizes)
  if gy:ndims() == 0 then return core.fill(gy:item(), sizes) end
  local out = core.zeros(sizes)
  return core.add(out, gy, out)
end

--- Sum of all elements (a number, or a 0-dim tensor when recorded), or
-- along dimension `dim` (that dimension becomes size 1).
ops.sum = op{
  name = "sum",
  forward = function(ctx, x, dim)
    if ctx.recording then ctx.sizes = x:size() end
    return core.sum(x, dim)
  end,
  backward = function(ctx, gy) return spread(gy, ctx.sizes) end,
}

local function count(sizes, dim)
  if dim then return sizes[dim] or 1 end
  local n = 1
  for d = 1, #sizes do n = n * sizes[d] end
  return n
end

--- Mean of all elements, or along dimension `dim`.
ops.mean = op{
  name = "mean",
  forward = function(ctx, x, dim)
    if ctx.recording then ctx.sizes, ctx.dim = x:size(), dim end
    return core.mean(x, dim)
  end,
  backward = function(ctx, gy)
    return spread(core.div(gy, count(ctx.sizes, ctx.dim)), ctx.sizes)
  end,
}

return ops
