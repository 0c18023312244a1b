--- Views and copies with new shapes: reshape, flatten, clone, contiguous,
-- float, select, slice and narrow, and sum_to, the reverse of
-- broadcasting.
-- @module cnn.ops.shapes

local core = require "cnn.core"
local argcheck = require "cnn.argcheck"
local autograd = require "cnn.autograd"

local op = autograd.op

local ops = {}

-- Shapes -------------------------------------------------------------

--- x with new sizes (integers or one table; -1 once for "the rest").
-- @function reshape
-- @tparam Tensor x
-- @param ... the new sizes
-- @treturn Tensor
-- @usage cnn.reshape(cnn.ones(2, 3), 3, 2)
-- x:reshape(-1, 64)
ops.reshape = op{
  name = "reshape",
  forward = function(ctx, x, ...)
    if ctx.recording then ctx.sizes = x:size() end
    return core.reshape(x, ...)
  end,
  backward = function(ctx, gy) return core.reshape(gy, ctx.sizes) end,
}

--- Flux's flatten: all dimensions but the last merged into one,
-- W×H×C×N → (W·H·C)×N.
-- @function flatten
-- @tparam Tensor x
-- @treturn Tensor
-- @usage cnn.flatten(cnn.ones(7, 7, 16, 64)):size() --> {784, 64}
function ops.flatten(x)
  argcheck.tensor("flatten", "x", x)
  local n = x:ndims()
  if n == 0 then return ops.reshape(x, 1, 1) end
  -- the size of the merged dimension given, so that an empty batch works
  local sizes, merged = x:size(), 1
  for d = 1, n - 1 do merged = merged * sizes[d] end
  return ops.reshape(x, merged, sizes[n])
end

--- A copy of x (differentiable).
ops.clone = op{
  name = "clone",
  forward = function(_, x) return core.clone(x) end,
  backward = function(_, gy) return gy end,
}

--- x itself when contiguous, else a contiguous copy (differentiable).
ops.contiguous = op{
  name = "contiguous",
  forward = function(_, x) return core.contiguous(x) end,
  backward = function(_, gy) return gy end,
}

--- A Float32 copy of x (differentiable: the gradient passes through).
ops.float = op{
  name = "float",
  forward = function(_, x) return core.float(x) end,
  backward = function(_, gy) return gy end,
}

--- sum_to(x, sizes): x summed down to sizes, the reverse of broadcasting;
-- its gradient is gy broadcast back to the sizes of x.
ops.sum_to = op{
  name = "sum_to",
  forward = function(ctx, x, sizes)
    if ctx.recording then ctx.sizes = x:size() end
    return core.sum_to(x, sizes)
  end,
  backward = function(ctx, gy)
    local out = core.zeros(ctx.sizes)
    return core.add(out, gy, out)
  end,
}

-- An op taking a view of x; its gradient is gy written into the same
-- view of zeros of the size of x.
local function view_op(name)
  return op{
    name = name,
    forward = function(ctx, x, ...)
      if ctx.recording then ctx.sizes, ctx.args = x:size(), table.pack(...) end
      return core[name](x, ...)
    end,
    backward = function(ctx, gy)
      local gx = core.zeros(ctx.sizes)
      core.copy(core[name](gx, table.unpack(ctx.args, 1, ctx.args.n)), gy)
      return gx
    end,
  }
end
--- select(x, dim, i): the slice at index i of dimension dim (a view).
ops.select = view_op("select")
--- slice(x, dim, first, last): indices first..last of dimension dim.
ops.slice = view_op("slice")
--- narrow(x, dim, first, len): len indices of dim from first.
ops.narrow = view_op("narrow")

return ops
