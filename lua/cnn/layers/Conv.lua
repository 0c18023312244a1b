--- The Conv layer.
-- @module cnn.layers.Conv

local argcheck = require "cnn.argcheck"
local core = require "cnn.core"
local ops = require "cnn.ops"
local activations = require "cnn.activations"
local initialisers = require "cnn.initialisers"
local base = require "cnn.layers.base"
local arguments = require "cnn.layers.arguments"
local geometry = require "cnn.layers.geometry"

local OPTIONS = {pad = true, stride = true, dilation = true, groups = true, bias = true, init = true}

local Conv = base.class("Conv")

-- The usage lines of a constructor named fname (Conv, DepthwiseConv).
local function usage(fname) return fname .. "(kernel, cin, cout [, act] [, opts])" end
local function pair_usage(fname) return fname .. "(kernel, {cin, cout} [, act] [, opts])" end

-- Flux's SamePad: the padding that keeps W×H at stride 1, the odd pixel
-- on the low side.
local function same_pad(kernel, dilation)
  local pad = {}
  for d = 1, 2 do
    local total = (kernel[d] - 1) * dilation[d]
    local hi = total // 2
    pad[2 * d - 1], pad[2 * d] = total - hi, hi
  end
  return pad
end

-- The kernel after the channels, as PyTorch's Conv2d(cin, cout, k):
-- Conv(1, 16, {3, 3}).
local function refuse_kernel_last(fname, kernel, cin, cout)
  local pair = argcheck.is_list(cout) and #cout == 2 and math.type(cout[1]) == "integer"
    and math.type(cout[2]) == "integer"
  if math.type(kernel) == "integer" and math.type(cin) == "integer" and pair then
    argcheck.raise(("%s: the kernel comes first: %s; got %s, %s, %s")
      :format(fname, usage(fname), argcheck.describe(kernel), argcheck.describe(cin), argcheck.describe(cout)))
  end
end

-- The activations the convolution applies itself, as a post-op, by the
-- names the core's conv2d knows them by.
local FUSABLE = {[activations.relu] = "relu", [activations.tanh] = "tanh", [activations.sigmoid] = "sigmoid"}

--- Conv(kernel, cin, cout [, act] [, opts]): 2-D convolution layer, as
-- Flux's `Conv((3,3), 1=>16, relu; pad=1)`, on W×H×C×N images.
--
-- `kernel` is `{kw, kh}`; `cin, cout` may also be given as one pair
-- `{cin, cout}`. `act` is applied after the bias (identity if nil);
-- `cnn.relu`, `cnn.tanh` and `cnn.sigmoid` are fused into the
-- convolution (the same results, one pass fewer over the output). Options:
--
-- - `pad`: an integer, `{pw, ph}` (each applied on both sides),
--   `{w_lo, w_hi, h_lo, h_hi}` or `"same"` (output size = input size at
--   stride 1); default 0
-- - `stride`, `dilation`: an integer or `{w, h}`; default 1
-- - `groups`: an integer dividing `cin` and `cout`, default 1: the
--   channels split into that many groups, output channels
--   `(j-1)·cout/groups + 1` to `j·cout/groups` seeing only input channels
--   `(j-1)·cin/groups + 1` to `j·cin/groups` (Flux's and PyTorch's
--   `groups`); `groups = cin` is a depthwise convolution
-- - `bias`: true (zeros, the default) or false (no bias)
-- - `init`: the weight initialiser, default `cnn.glorot_uniform`
--
-- Fields: `weight` (kW×kH×(Cin/groups)×Cout, drawn by `init` with the
-- fan-in of one group, as in Flux), `bias` (Cout, or nil), `act`, `pad`,
-- `stride`, `dilation`, `groups`. Convolution is cross-correlation (as in
-- PyTorch); weights from Flux's Conv need a 180° rotation.
-- @function Conv
-- @param kernel {kw, kh}
-- @param cin the input channels (or the pair {cin, cout})
-- @param cout the output channels
-- @param[opt] act the activation (identity if nil)
-- @tparam[opt] table opts pad (0), stride (1), dilation (1), groups (1), bias (true), init (cnn.glorot_uniform)
-- @return the layer
-- @usage cnn.Conv({3, 3}, 1, 16, cnn.relu, {pad = 1})
-- cnn.Conv({3, 3}, 32, 32, cnn.relu, {pad = 1, groups = 32}) -- depthwise
local function build_named(fname, options, depthwise, kernel, cin, cout, act, opts, ...)
  -- a Conv made by the constructor fname, which takes the options
  -- `options`; `depthwise`: groups = cin (DepthwiseConv)
  arguments.conv_arity(fname, kernel, cin, cout, act, opts, ...)
  refuse_kernel_last(fname, kernel, cin, cout)
  cin, cout, act, opts = arguments.conv_channels(fname, options, usage(fname), pair_usage(fname),
    cin, cout, act, opts)
  kernel = arguments.tuple(fname, "kernel", kernel, 2, 1)
  local stride = arguments.tuple(fname, "stride", opts.stride or 1, 2, 1)
  local dilation = arguments.tuple(fname, "dilation", opts.dilation or 1, 2, 1)
  local pad = arguments.pad(fname, opts.pad, function() return same_pad(kernel, dilation) end)
  local groups = arguments.groups(fname, depthwise and cin or opts.groups, cin, cout)
  local bias = base.bias_option(fname, opts.bias)
  local self = setmetatable({
    weight = base.initialised(fname, opts.init or initialisers.glorot_uniform,
      kernel[1], kernel[2], cin // groups, cout),
    bias = bias and base.zeros(fname, core, cout) or nil,
    act = act,
    kernel = kernel, cin = cin, cout = cout,
    pad = pad, stride = stride, dilation = dilation, groups = groups,
    kind = depthwise and "DepthwiseConv" or nil,
  }, Conv)
  local fused = act ~= nil and FUSABLE[act] or nil
  self.fused = fused ~= nil
  self.options = {stride = stride, pad = pad, dilation = dilation, groups = groups,
                  activation = fused}
  return self
end

function Conv:check(x)
  local msg = base.check_images(x, self.cin)
  if msg then return msg end
  local w = x:size(1) + self.pad[1] + self.pad[2]
  local h = x:size(2) + self.pad[3] + self.pad[4]
  if w < geometry.extent(self, 1) or h < geometry.extent(self, 2) then
    return ("input (%s) with padding is smaller than the kernel (%d, %d)")
      :format(base.shape(x), geometry.extent(self, 1), geometry.extent(self, 2))
  end
  return nil
end

function Conv:forward(x)
  local y = ops.conv2d(x, self.weight, self.bias, self.options)
  if self.act and not self.fused then y = self.act(y) end
  return y
end

function Conv:parameters()
  return {self.weight, self.bias}
end

function Conv:describe()
  local s = ("%s((%d, %d), %d => %d"):format(self.kind or "Conv", self.kernel[1], self.kernel[2], self.cin, self.cout)
    .. base.act_string(self.act) .. base.window_string(self)
  if self.groups ~= 1 and not self.kind then s = s .. ", groups=" .. self.groups end
  if not self.bias then s = s .. ", bias=false" end
  return s .. ")"
end

local function build(...) return build_named("Conv", OPTIONS, false, ...) end

local DEPTHWISE_OPTIONS = {pad = true, stride = true, dilation = true, bias = true, init = true}

--- DepthwiseConv(kernel, cin, cout [, act] [, opts]): a depthwise
-- convolution, as Flux's `DepthwiseConv((3,3), 16=>32, relu; pad=1)`: a
-- Conv with `groups = cin`, each input channel convolved on its own into
-- `cout / cin` output channels (`cout` a multiple of `cin`). It is a Conv
-- layer that prints as DepthwiseConv, with Conv's options but `groups`.
-- Fields: those of Conv; `weight` is kW×kH×1×Cout.
-- @function DepthwiseConv
-- @param kernel {kw, kh}
-- @param cin the input channels (or the pair {cin, cout})
-- @param cout the output channels, a multiple of cin
-- @param[opt] act the activation (identity if nil)
-- @tparam[opt] table opts pad (0), stride (1), dilation (1), bias (true), init (cnn.glorot_uniform)
-- @return the layer
-- @usage cnn.DepthwiseConv({3, 3}, 16, 32, cnn.relu, {pad = 1})
local function build_depthwise(...)
  return build_named("DepthwiseConv", DEPTHWISE_OPTIONS, true, ...)
end

return {
  Conv = base.constructor(build, Conv),
  DepthwiseConv = base.constructor(build_depthwise, Conv),
}
