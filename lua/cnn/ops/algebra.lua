--- The elementwise algebra of tensors, with broadcasting (add, sub, mul,
-- div, pow, neg), the matrix product and transpose, and the elementwise
-- functions (exp, log, sqrt, abs, and those on oneDNN's eltwise kinds).
-- @module cnn.ops.algebra

local core = require "cnn.core"
local argcheck = require "cnn.argcheck"
local autograd = require "cnn.autograd"

local is_tensor = argcheck.is_tensor

local op = autograd.op

local ops = {}

-- Writing into `out` would overwrite a value the backward may need, so
-- it is allowed only outside a gradient call.
local function unrecorded_out(ctx, name, ...)
  if ctx.recording then
    error(("%s: out is not allowed on tracked tensors inside a gradient call"):format(name), 0)
  end
  return core[name](...)
end

-- Algebra --------------------------------------------------------------

--- a + b, elementwise with broadcasting (numbers on either side).
ops.add = op{
  name = "add",
  forward = function(ctx, a, b, out)
    if out then return unrecorded_out(ctx, "add", a, b, out) end
    return core.add(a, b)
  end,
  backward = function(_, gy) return gy, gy end,
}

--- a - b, elementwise with broadcasting.
ops.sub = op{
  name = "sub",
  forward = function(ctx, a, b, out)
    if out then return unrecorded_out(ctx, "sub", a, b, out) end
    return core.sub(a, b)
  end,
  backward = function(ctx, gy)
    return gy, ctx.needs[2] and core.neg(gy)
  end,
}

--- a .* b, elementwise with broadcasting.
ops.mul = op{
  name = "mul",
  forward = function(ctx, a, b, out)
    if out then return unrecorded_out(ctx, "mul", a, b, out) end
    ctx:save(a, b)
    return core.mul(a, b)
  end,
  backward = function(ctx, gy)
    local a, b = ctx.saved[1], ctx.saved[2]
    return ctx.needs[1] and core.mul(gy, b), ctx.needs[2] and core.mul(gy, a)
  end,
}

--- a ./ b, elementwise with broadcasting.
ops.div = op{
  name = "div",
  forward = function(ctx, a, b, out)
    if out then return unrecorded_out(ctx, "div", a, b, out) end
    local y = core.div(a, b)
    ctx:save(b, y)
    return y
  end,
  backward = function(ctx, gy)
    local b, y = ctx.saved[1], ctx.saved[2]
    local ga = core.div(gy, b)
    -- d(a/b)/db = -y/b
    return ga, ctx.needs[2] and core.neg(core.mul(ga, y))
  end,
}

--- a .^ b, elementwise with broadcasting.
ops.pow = op{
  name = "pow",
  forward = function(ctx, a, b, out)
    if out then return unrecorded_out(ctx, "pow", a, b, out) end
    local y = core.pow(a, b)
    ctx:save(a, b, y)
    return y
  end,
  backward = function(ctx, gy)
    local a, b, y = ctx.saved[1], ctx.saved[2], ctx.saved[3]
    local ga, gb
    if ctx.needs[1] then
      ga = core.mul(gy, core.mul(b, core.pow(a, core.sub(b, 1))))
    end
    if ctx.needs[2] then
      local log_a = type(a) == "number" and math.log(a) or core.log(a)
      gb = core.mul(gy, core.mul(y, log_a))
    end
    return ga, gb
  end,
}

--- -x.
ops.neg = op{
  name = "neg",
  forward = function(ctx, x, out)
    if out then return unrecorded_out(ctx, "neg", x, out) end
    return core.neg(x)
  end,
  backward = function(_, gy) return core.neg(gy) end,
}

local function vector_as_row(v)
  return core.reshape(v, 1, v:numel())
end

--- Matrix product: a m×k times b k×n (or a vector of length k) gives
-- m×n (or a vector of length m).
ops.matmul = op{
  name = "matmul",
  forward = function(ctx, a, b)
    ctx:save(a, b)
    return core.matmul(a, b)
  end,
  backward = function(ctx, gy)
    local a, b = ctx.saved[1], ctx.saved[2]
    local ga, gb
    if b:ndims() == 1 then
      -- y = A b: dA = gy b', db = A' gy
      if ctx.needs[1] then ga = core.matmul(core.reshape(gy, gy:numel(), 1), vector_as_row(b)) end
      if ctx.needs[2] then gb = core.matmul(core.transpose(a), gy) end
    else
      if ctx.needs[1] then ga = core.matmul(gy, core.transpose(b)) end
      if ctx.needs[2] then gb = core.matmul(core.transpose(a), gy) end
    end
    return ga, gb
  end,
}

--- Transpose of a matrix (a copy).
ops.transpose = op{
  name = "transpose",
  forward = function(_, a) return core.transpose(a) end,
  backward = function(_, gy) return core.transpose(gy) end,
}


-- Elementwise functions on oneDNN's eltwise --------------------------

local uses_dst = {}
local function backward_uses_dst(kind)
  local u = uses_dst[kind]
  if u == nil then
    u = core.eltwise_uses_dst(kind)
    uses_dst[kind] = u
  end
  return u
end

--- An op y = f(x) on oneDNN's eltwise kind `kind`, with an optional
-- parameter (`alpha`, default `default_alpha`) as second argument.
function ops.eltwise_op(name, kind, default_alpha, beta)
  argcheck.string("eltwise_op", "name", name)
  argcheck.string("eltwise_op", "kind", kind)
  argcheck.optional_number("eltwise_op", "default_alpha", default_alpha)
  beta = argcheck.optional_number("eltwise_op", "beta", beta, 0)
  return op{
    name = name,
    forward = function(ctx, x, alpha)
      if not is_tensor(x) then
        error(("%s: expected a tensor, got %s"):format(name, type(x)), 0)
      end
      alpha = alpha or default_alpha or 0
      x = core.contiguous(x)
      local y = core.eltwise(kind, x, alpha, beta)
      if ctx.recording then
        ctx.alpha = alpha
        ctx:save(backward_uses_dst(kind) and y or x)
      end
      return y
    end,
    backward = function(ctx, gy)
      return core.eltwise_backward(kind, core.contiguous(gy), ctx.saved[1], ctx.alpha, beta)
    end,
  }
end

-- exp.(x), log.(x), sqrt.(x), abs.(x) on cnn.core's elementwise maths;
-- `out` as cnn.core's.
local function unary_op(name, derivative)
  return op{
    name = name,
    forward = function(ctx, x, out)
      if out then return unrecorded_out(ctx, name, x, out) end
      local y = core[name](x)
      if ctx.recording then ctx:save(x, y) end
      return y
    end,
    backward = function(ctx, gy)
      return derivative(gy, ctx.saved[1], ctx.saved[2])
    end,
  }
end
--- exp.(x)
ops.exp = unary_op("exp", function(gy, _, y) return core.mul(gy, y) end)
--- log.(x)
ops.log = unary_op("log", function(gy, x) return core.div(gy, x) end)
--- sqrt.(x)
ops.sqrt = unary_op("sqrt", function(gy, _, y) return core.div(core.mul(gy, 0.5), y) end)
--- abs.(x)
ops.abs = unary_op("abs", function(gy, x)
  return core.mul(gy, core.sub(core.gt(x, 0), core.lt(x, 0)))
end)

return ops
