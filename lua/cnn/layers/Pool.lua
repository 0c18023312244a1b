--- MaxPool(window [, opts]) and MeanPool(window [, opts]): 2-D pooling on
-- W×H×C×N images, as Flux's `MaxPool((2,2))`.
--
-- `window` is `{kw, kh}` (or an integer for a square window). Options:
-- `stride` (an integer or `{sw, sh}`, default the window) and `pad` (an
-- integer, `{pw, ph}` or `{w_lo, w_hi, h_lo, h_hi}`, default 0). The
-- output size rounds down: 7×7 → 3×3 with a 2×2 window. MeanPool counts
-- the padding in the mean, as Flux and PyTorch do by default.
-- @module cnn.layers.Pool

local argcheck = require "cnn.argcheck"
local ops = require "cnn.ops"
local base = require "cnn.layers.base"
local geometry = require "cnn.layers.geometry"

local OPTIONS = {stride = true, pad = true}

local function fail(name, msg)
  error(name .. ": " .. msg, 0)
end

local function checked_tuple(name, value, n, what, minimum)
  local t, msg = base.tuple(value, n, what)
  if not t then fail(name, msg) end
  for i = 1, n do
    if t[i] < minimum then fail(name, ("%s must be at least %d"):format(what, minimum)) end
  end
  return t
end

local function parse_pad(name, value)
  if value == nil then return {0, 0, 0, 0} end
  if type(value) == "table" and #value == 2 then
    local p = checked_tuple(name, value, 2, "pad", 0)
    return {p[1], p[1], p[2], p[2]}
  end
  return checked_tuple(name, value, 4, "pad", 0)
end

local function pool_class(name, kind)
  local Pool = base.class(name)

  local function build(window, opts, ...)
    argcheck.arity(name, 2, "window, opts", window, opts, ...)
    opts = argcheck.options(name, opts, OPTIONS)
    window = checked_tuple(name, window, 2, "window", 1)
    local stride = checked_tuple(name, opts.stride or window, 2, "stride", 1)
    local pad = parse_pad(name, opts.pad)
    return setmetatable({
      window = window, stride = stride, pad = pad,
      options = {window = window, stride = stride, pad = pad},
    }, Pool)
  end

  function Pool:check(x)
    return base.check_ndims(x, 4, "W×H×C×N") or geometry.pool_misfit(self, x:size())
  end

  function Pool:forward(x)
    return (ops.pool2d(kind, x, self.options))
  end

  local function same(a, b)
    for i = 1, #a do if a[i] ~= b[i] then return false end end
    return true
  end

  function Pool:describe()
    local s = ("%s((%d, %d)"):format(name, self.window[1], self.window[2])
    if not same(self.pad, {0, 0, 0, 0}) then s = s .. ", pad=" .. base.tuple_string(self.pad) end
    if not same(self.stride, self.window) then s = s .. ", stride=" .. base.tuple_string(self.stride) end
    return s .. ")"
  end

  return base.constructor(build, Pool)
end

return {
  --- Max pooling over windows (see the module description).
  -- @function MaxPool
  -- @param window {kw, kh}, or an integer
  -- @tparam[opt] table opts stride (the window), pad (0)
  -- @return the layer
  -- @usage cnn.MaxPool({2, 2})
  MaxPool = pool_class("MaxPool", "max"),
  --- Mean pooling over windows, the padding counted (see the module description).
  -- @function MeanPool
  -- @param window {kw, kh}, or an integer
  -- @tparam[opt] table opts stride (the window), pad (0)
  -- @return the layer
  -- @usage cnn.MeanPool(2, {pad = 1})
  MeanPool = pool_class("MeanPool", "mean"),
}
