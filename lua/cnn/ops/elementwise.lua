--- Julia's elementwise max.(a, b) and min.(a, b) as a differentiable op,
-- under the name it is called by (cnn.max, cnn.min).
-- @module cnn.ops.elementwise

local core = require "cnn.core"
local errors = require "cnn.errors"
local autograd = require "cnn.autograd"

--- The op `name` computing core's elementwise `from` ("max" or "min")
-- of a and b, with broadcasting: the gradient goes to the
-- winner (`wins`: "gt" for maximum, "lt" for minimum), half to each where
-- they are equal (as PyTorch's maximum).
-- @param name the name in messages
-- @param from "max" or "min"
-- @param wins "gt" or "lt"
-- @return the op
-- @usage local max = elementwise("max", "max", "gt")
return function(name, from, wins)
  return autograd.op{
    name = name,
    forward = function(ctx, ...)
      if ctx.recording then ctx:save(...) end
      if name == from then return core[from](...) end
      return errors.call_renamed(name, from, core[from], ...)
    end,
    backward = function(ctx, gy)
      local a, b = ctx.saved[1], ctx.saved[2]
      local to_a = core.add(core[wins](a, b), core.mul(core.eq(a, b), 0.5))
      local ga = ctx.needs[1] and core.mul(gy, to_a) or nil
      local gb = ctx.needs[2] and core.mul(gy, core.sub(1, to_a)) or nil
      return ga, gb
    end,
  }
end
