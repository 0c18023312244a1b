--- Copies that rearrange tensors, differentiable: cat (Julia's cat),
-- flip (Julia's reverse), pad (NNlib's pad_constant) and repeat_ (Julia's
-- repeat), on the core's copy loops (src/core/rearrange.c).
-- @module cnn.ops.rearrange

local core = require "cnn.core"
local argcheck = require "cnn.argcheck"
local autograd = require "cnn.autograd"

local op = autograd.op

local ops = {}

-- A tensor argument, named `what` in messages.
local function tensor(fname, what, x)
  return argcheck.tensor(fname, what, x)
end

local cat_op = op{
  name = "cat",
  forward = function(ctx, dim, ...)
    if ctx.recording then
      ctx.dim, ctx.sizes = dim, {}
      for i = 1, select("#", ...) do ctx.sizes[i] = select(i, ...):size() end
    end
    return core.cat(dim, ...)
  end,
  backward = function(ctx, gy)
    -- each input's part of gy, copied, with the input's sizes (the part
    -- may have more dimensions, of size 1)
    local gs, at, n = {}, 1, #ctx.sizes
    for i = 1, n do
      local sizes = ctx.sizes[i]
      local len = sizes[ctx.dim] or 1
      if ctx.needs[i + 1] then gs[i] = core.reshape(core.contiguous(core.narrow(gy, ctx.dim, at, len)), sizes) end
      at = at + len
    end
    return nil, table.unpack(gs, 1, n)
  end,
}

local CAT_OPTIONS = {dims = true}
--- The tensors one after another along dimension `dims`, as Julia's
-- `cat(a, b, ...; dims)`: their sizes agree except along `dims`, and
-- dimensions past a tensor's last count as 1, so that `dims = 3` stacks
-- matrices into a 3-D tensor. The options table comes last, as Julia's
-- keyword.
-- @function cat
-- @tparam Tensor a
-- @param ... more tensors, then the options table: dims (required), a
-- positive integer
-- @treturn Tensor
-- @usage cnn.cat(cnn.ones(2, 3), cnn.zeros(2, 1), {dims = 2}):size() --> {2, 4}
-- cnn.cat(x, y, {dims = 3}) -- channels of two W×H×C×N batches
function ops.cat(a, ...)
  local args = table.pack(a, ...)
  local opts = args[args.n]
  if args.n < 2 or argcheck.is_tensor(opts) then
    argcheck.raise("cat: expected tensors then an options table such as {dims = 1}, got no options table")
  end
  opts = argcheck.options("cat", opts, CAT_OPTIONS)
  if opts.dims == nil then argcheck.raise("cat: the option dims is required, as in {dims = 1}") end
  local dims = argcheck.integer("cat", "dims", opts.dims, 1, 8)
  local xs = {}
  for i = 1, args.n - 1 do xs[i] = tensor("cat", ("tensor %d"):format(i), args[i]) end
  for i = 2, #xs do
    if xs[i]:dtype() ~= xs[1]:dtype() then
      argcheck.raise(("cat: tensor %d is %s, tensor 1 is %s"):format(i, xs[i]:dtype(), xs[1]:dtype()))
    end
  end
  return cat_op(dims, table.unpack(xs))
end

local flip_op = op{
  name = "flip",
  forward = function(ctx, x, dims)
    if ctx.recording then ctx.dims = dims end
    return core.flip(x, dims)
  end,
  backward = function(ctx, gy) return core.flip(gy, ctx.dims) end,
}

--- x reversed along the dimensions `dims` (all of them by default), as
-- Julia's `reverse(x; dims)`.
-- @function flip
-- @tparam Tensor x
-- @param[opt] dims a dimension of x or a list of them
-- @treturn Tensor
-- @usage cnn.flip(cnn.tensor{1, 2, 3}) -- 3, 2, 1
-- cnn.flip(kernels, {1, 2}) -- each kernel rotated by 180°
function ops.flip(x, dims)
  tensor("flip", "x", x)
  local n = x:ndims()
  local list = {}
  if dims == nil then
    for d = 1, n do list[d] = d end
  else
    list = type(dims) == "table" and dims or {dims}
    local ok = argcheck.is_list(list)
    for i = 1, ok and #list or 0 do ok = math.type(list[i]) == "integer" and list[i] >= 1 and list[i] <= n end
    if not ok then
      argcheck.fail("flip", "dims", ("a dimension of x (1..%d) or a list of them"):format(n), dims)
    end
  end
  return flip_op(x, list)
end

-- The pads of NNlib's pad_constant as {lo} and {hi} per dimension of x:
-- one number for every side, one per dimension for both of its sides,
-- two per dimension (lo1, hi1, lo2, hi2, ...), or a {lo, hi} pair per
-- dimension.
local function pads_of(x, pad)
  local n = x:ndims()
  local lo, hi = {}, {}
  local function fail()
    local valid = "a non-negative integer, or a list of %d or %d of them, or of %d {lo, hi} pairs"
    argcheck.fail("pad", "pad", valid:format(n, 2 * n, n), pad)
  end
  local function count(v)
    if math.type(v) ~= "integer" or v < 0 then fail() end
    return v
  end
  if type(pad) ~= "table" then
    local p = count(pad)
    for d = 1, n do lo[d], hi[d] = p, p end
  elseif not argcheck.is_list(pad) then
    fail()
  elseif #pad == n and n > 0 and type(pad[1]) == "table" then
    for d = 1, n do
      local pair = pad[d]
      if not argcheck.is_list(pair) or #pair ~= 2 then fail() end
      lo[d], hi[d] = count(pair[1]), count(pair[2])
    end
  elseif #pad == n then
    for d = 1, n do lo[d] = count(pad[d]); hi[d] = lo[d] end
  elseif #pad == 2 * n then
    for d = 1, n do lo[d], hi[d] = count(pad[2 * d - 1]), count(pad[2 * d]) end
  else
    fail()
  end
  return lo, hi
end

local pad_op = op{
  name = "pad",
  forward = function(ctx, x, lo, hi, value)
    if ctx.recording then ctx.lo, ctx.sizes = lo, x:size() end
    return core.pad_constant(x, lo, hi, value)
  end,
  backward = function(ctx, gy)
    local v = gy
    for d = 1, #ctx.sizes do v = core.narrow(v, d, ctx.lo[d] + 1, ctx.sizes[d]) end
    return core.contiguous(v)
  end,
}

--- x padded with `value` (0 by default) on each side of each dimension,
-- as NNlib's `pad_constant(x, pad, value)`. `pad` is one integer for
-- every side, a list of one per dimension (both sides), of two per
-- dimension (lo1, hi1, lo2, hi2, ...), or of a {lo, hi} pair per
-- dimension; all non-negative.
-- @function pad
-- @tparam Tensor x
-- @param pad the pads
-- @tparam[opt=0] number value the value of the new elements
-- @treturn Tensor
-- @usage cnn.pad(cnn.ones(2, 2), 1):size() --> {4, 4}
-- cnn.pad(x, {{1, 2}, {0, 0}, {0, 0}, {0, 0}}, -1) -- W×H×C×N: 1 before and 2 after along W
function ops.pad(x, pad, value)
  tensor("pad", "x", x)
  local lo, hi = pads_of(x, pad)
  value = argcheck.optional_number("pad", "value", value, 0)
  return pad_op(x, lo, hi, value)
end

local repeat_op = op{
  name = "repeat_",
  forward = function(ctx, x, counts)
    if ctx.recording then ctx.counts, ctx.sizes = counts, x:size() end
    return core.repeat_(x, counts)
  end,
  backward = function(ctx, gy)
    return core.repeat_backward(core.contiguous(gy), ctx.sizes, ctx.counts)
  end,
}

--- x repeated counts[d] times along each dimension d, as Julia's
-- `repeat(x, counts...)` (`repeat` is a Lua keyword, hence the `_`):
-- the result is counts[d] copies of x one after another along d, and
-- counts past the last dimension of x add dimensions.
-- @function repeat_
-- @tparam Tensor x
-- @param ... the counts, non-negative integers (or one list of them)
-- @treturn Tensor
-- @usage cnn.repeat_(cnn.tensor{1, 2}, 2) -- 1, 2, 1, 2
-- cnn.repeat_(cnn.ones(2, 3), 1, 2, 4):size() --> {2, 6, 4}
function ops.repeat_(x, ...)
  tensor("repeat_", "x", x)
  local counts = select("#", ...) == 1 and type(...) == "table" and ... or {...}
  local ok = argcheck.is_list(counts) and #counts <= 8
  for i = 1, ok and #counts or 0 do ok = math.type(counts[i]) == "integer" and counts[i] >= 0 end
  if not ok then
    argcheck.fail("repeat_", "counts", "non-negative integers, at most 8 (or one list of them)",
      select("#", ...) == 1 and ... or counts)
  end
  return repeat_op(x, counts)
end

return ops
