--- Upsample(mode, opts): Flux's `Upsample(:nearest, scale = 2)` on
-- oneDNN's resampling, W×H×C×N → W'×H'×C×N.
-- @module cnn.layers.Upsample

local argcheck = require "cnn.argcheck"
local ops = require "cnn.ops"
local base = require "cnn.layers.base"
local arguments = require "cnn.layers.arguments"

local OPTIONS = {scale = true, size = true}
local MODES = {"nearest", "bilinear"}
local USAGE = "Upsample(mode, {scale = s} or {size = {W, H}})"

local Upsample = base.class("Upsample")

-- Nearest repeats pixels a whole number of times; bilinear also takes
-- real scales, as Flux's upsample_bilinear.
local function parse_scale(mode, v)
  if mode == "nearest" then return (arguments.tuple("Upsample", "scale", v, 2, 1)) end
  local t = argcheck.is_list(v) and #v == 2 and {v[1], v[2]} or {v, v}
  if (type(v) == "number" or type(v) == "table") and argcheck.is_number(t[1], "(0, inf)")
     and argcheck.is_number(t[2], "(0, inf)") then
    return t
  end
  argcheck.fail("Upsample", "scale", "a positive number or a table of 2 positive numbers", v)
end

--- Upsample(mode, opts): resizes images W×H×C×N to W'×H'×C×N, as Flux's
-- Upsample. `mode` is "nearest" (the default; each pixel repeated, as
-- Flux's upsample_nearest) or "bilinear" (Flux's upsample_bilinear,
-- the same as PyTorch's `interpolate(mode="bilinear",
-- align_corners=False)`). The options give either `scale` (a positive
-- integer, or `{sw, sh}`: W' = sw·W, H' = sh·H; bilinear also takes real
-- scales, W' = floor(sw·W), as Flux) or `size` (`{W', H'}`, whatever the
-- input's size), not both. Bilinear maps output pixel i to input
-- position (i + 0.5)·W/W' − 0.5 (PyTorch's with `recompute_scale_factor`
-- for a real scale). Nearest needs whole multiples of the input's size,
-- as in Flux: a `size` that is not one is refused when the layer is
-- called.
-- @function Upsample
-- @param[opt="nearest"] mode "nearest" or "bilinear"
-- @tparam table opts scale (an integer or {sw, sh}; real for bilinear) or size ({W', H'})
-- @return the layer
-- @usage cnn.Upsample("bilinear", {scale = 2})
-- cnn.Upsample("nearest", {size = {28, 28}})
-- cnn.Upsample("bilinear", {scale = {1.5, 2}})
local function build(mode, opts, ...)
  if type(mode) == "table" and opts == nil then mode, opts = "nearest", mode end
  argcheck.arity("Upsample", 2, "mode, opts", mode, opts, ...)
  mode = argcheck.choice("Upsample", "mode", mode, MODES)
  if not arguments.is_plain_table(opts) then
    argcheck.raise(("Upsample: expected an options table with scale or size: %s; got %s")
      :format(USAGE, argcheck.describe(opts)))
  end
  opts = argcheck.options("Upsample", opts, OPTIONS)
  if opts.scale == nil and opts.size == nil then
    argcheck.raise(("Upsample: the options give neither scale nor size: %s"):format(USAGE))
  end
  if opts.scale ~= nil and opts.size ~= nil then
    argcheck.raise(("Upsample: give either scale or size, not both: %s"):format(USAGE))
  end
  local self = {mode = mode}
  if opts.scale ~= nil then
    self.scale = parse_scale(mode, opts.scale)
    self.scale_given = type(opts.scale) == "table"
  else
    local size = arguments.tuple("Upsample", "size", opts.size, {2}, 1)
    if type(opts.size) ~= "table" then
      argcheck.fail("Upsample", "size", "a table of 2 positive integers {W', H'}", opts.size)
    end
    self.size = size
  end
  return setmetatable(self, Upsample)
end

-- The output's W' and H' for an input of W×H: floor(scale·W) as Flux.
local function output_size(self, w, h)
  if self.size then return self.size[1], self.size[2] end
  return math.floor(w * self.scale[1]), math.floor(h * self.scale[2])
end

function Upsample:check(x)
  local msg = base.check_ndims(x, 4, "W×H×C×N")
  if msg then return msg end
  local ow, oh = output_size(self, x:size(1), x:size(2))
  if ow < 1 or oh < 1 then
    return ("input %s gives an output of %d×%d, no pixels"):format(base.shape(x), ow, oh)
  end
  if self.mode == "nearest" then
    local w, h = output_size(self, x:size(1), x:size(2))
    if x:size(1) == 0 or x:size(2) == 0 or w % x:size(1) ~= 0 or h % x:size(2) ~= 0 then
      return ("nearest upsampling to %d×%d needs an input whose W and H divide them, got %s")
        :format(w, h, base.shape(x))
    end
  end
  return nil
end

function Upsample:forward(x)
  local w, h = output_size(self, x:size(1), x:size(2))
  return (ops.resample(self.mode, x, {w, h}))
end

function Upsample:describe()
  local s = "Upsample(:" .. self.mode
  if self.size then return s .. ", size = " .. base.tuple_string(self.size, false) .. ")" end
  if self.scale_given then return s .. ", scale = " .. base.tuple_string(self.scale, false) .. ")" end
  return s .. ", scale = " .. self.scale[1] .. ")"
end

return base.constructor(build, Upsample)
