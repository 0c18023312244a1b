--- The largest or smallest element as a differentiable op, under the
-- name it is called by (cnn.maximum, or the method t:max()).
-- @module cnn.ops.extremum

local core = require "cnn.core"
local errors = require "cnn.errors"
local autograd = require "cnn.autograd"

-- g times a 0-dim or broadcastable gradient gy.
local function times(g, gy)
  if gy:ndims() == 0 then return core.mul(g, gy:item()) end
  return core.mul(g, gy)
end

--- The op `name` computing core's reduction `from` ("maximum" or
-- "minimum", the default `name`) of x, whole or along dim: the gradient
-- goes to the positions equal to the result, split evenly among them
-- when there are ties.
-- @param name the name in messages
-- @param[opt=name] from "maximum" or "minimum"
-- @return the op
-- @usage local max_method = extremum("max", "maximum")
return function(name, from)
  from = from or name
  local f = core[from]
  -- the core's messages name `from`; under another name they are given
  -- `name` instead
  local reduce = from == name and f or function(...) return errors.call_renamed(name, from, f, ...) end
  return autograd.op{
    name = name,
    forward = function(ctx, ...)
      local y = reduce(...)
      if ctx.recording then ctx:save(y, ...) end
      return y
    end,
    backward = function(ctx, gy)
      local y, x, dim = ctx.saved[1], ctx.saved[2], ctx.saved[3]
      local mask = core.eq(x, y)
      return times(core.div(mask, core.sum(mask, dim)), gy)
    end,
  }
end
