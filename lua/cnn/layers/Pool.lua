--- MaxPool(window [, opts]) and MeanPool(window [, opts]): 2-D pooling on
-- W×H×C×N images, as Flux's `MaxPool((2,2))`.
--
-- `window` is `{kw, kh}` (or an integer for a square window). Options:
-- `stride` (an integer or `{sw, sh}`, default the window) and `pad` (an
-- integer, `{pw, ph}` or `{w_lo, w_hi, h_lo, h_hi}`, default 0). Each pad
-- must be smaller than the window along its dimension, as oneDNN
-- requires (PyTorch asks for at most half the window); a larger one is
-- refused when the layer is made. The output size rounds down: 7×7 →
-- 3×3 with a 2×2 window. MeanPool counts the padding in the mean by
-- default, dividing by the window's size everywhere, as Flux (NNlib's
-- meanpool) and PyTorch do; MeanPool's option `count_include_pad =
-- false` (PyTorch's name) divides by the window's pixels inside the image
-- only (oneDNN's pooling_avg_exclude_padding).
-- @module cnn.layers.Pool

local argcheck = require "cnn.argcheck"
local ops = require "cnn.ops"
local base = require "cnn.layers.base"
local arguments = require "cnn.layers.arguments"
local geometry = require "cnn.layers.geometry"

local OPTIONS = {stride = true, pad = true}
local MEAN_OPTIONS = {stride = true, pad = true, count_include_pad = true}

local function parse_pad(name, value)
  if value == nil then return {0, 0, 0, 0} end
  local p, n = arguments.tuple(name, "pad", value, {2, 4}, 0)
  if n == 2 then return {p[1], p[1], p[2], p[2]} end
  return p
end

-- A pad as large as the window would make windows of padding alone, which
-- the kernels refuse: refused here, when the layer is made.
local function check_pad(name, pad, window)
  for d = 1, 2 do
    local lo, hi = pad[2 * d - 1], pad[2 * d]
    if math.max(lo, hi) >= window[d] then
      argcheck.raise(("%s: pad %s must be smaller than the window %s: along %s, pad must be in 0..%d")
        :format(name, base.tuple_string(pad, false), base.tuple_string(window, false), d == 1 and "W" or "H",
          window[d] - 1))
    end
  end
end

-- The second argument where the options table goes, when it is not one:
-- a stride or an activation, as other libraries take them.
local function check_second(name, opts)
  local usage = ("%s(window [, opts])"):format(name)
  if type(opts) == "number" then
    argcheck.raise(("%s: the stride goes in the options table: %s, such as %s(2, {stride = 2}); got %s")
      :format(name, usage, name, argcheck.describe(opts)))
  end
  if argcheck.is_callable(opts) then
    argcheck.raise(("%s: takes no activation: %s; got %s"):format(name, usage, argcheck.describe(opts)))
  end
end

-- The options table where the window goes: MaxPool({stride = 2}).
local function check_first(name, window)
  if arguments.is_plain_table(window) and not argcheck.is_list(window) then
    argcheck.raise(("%s: the window comes first: %s(window [, opts]), such as %s({2, 2}); got an options table")
      :format(name, name, name))
  end
end

local function pool_class(name, kind)
  local Pool = base.class(name)

  local function build(window, opts, ...)
    argcheck.arity(name, 2, "window, opts", window, opts, ...)
    check_first(name, window)
    check_second(name, opts)
    opts = argcheck.options(name, opts, kind == "mean" and MEAN_OPTIONS or OPTIONS)
    window = arguments.tuple(name, "window", window, 2, 1)
    local stride = arguments.tuple(name, "stride", opts.stride or window, 2, 1)
    local pad = parse_pad(name, opts.pad)
    check_pad(name, pad, window)
    local include = argcheck.optional_boolean(name, "count_include_pad", opts.count_include_pad, true)
    return setmetatable({
      window = window, stride = stride, pad = pad, count_include_pad = include,
      options = {window = window, stride = stride, pad = pad, count_include_pad = include},
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
    if not self.count_include_pad then s = s .. ", count_include_pad=false" end
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
  --- Mean pooling over windows, the padding counted unless
  -- `count_include_pad = false` (see the module description).
  -- @function MeanPool
  -- @param window {kw, kh}, or an integer
  -- @tparam[opt] table opts stride (the window), pad (0), count_include_pad (true)
  -- @return the layer
  -- @usage cnn.MeanPool(2, {pad = 1})
  -- cnn.MeanPool(3, {pad = 1, stride = 1, count_include_pad = false})
  MeanPool = pool_class("MeanPool", "mean"),
}
