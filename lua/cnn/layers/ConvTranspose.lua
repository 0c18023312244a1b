--- The ConvTranspose layer.
-- @module cnn.layers.ConvTranspose

local argcheck = require "cnn.argcheck"
local core = require "cnn.core"
local ops = require "cnn.ops"
local activations = require "cnn.activations"
local initialisers = require "cnn.initialisers"
local base = require "cnn.layers.base"
local arguments = require "cnn.layers.arguments"

local NAME = "ConvTranspose"
local USAGE = "ConvTranspose(kernel, cin, cout [, act] [, opts])"
local OPTIONS = {pad = true, stride = true, dilation = true, outpad = true, groups = true,
                 bias = true, init = true}

local ConvTranspose = base.class(NAME)

-- Flux's SamePad for a transposed convolution (output = input·stride):
-- the convolution's for a kernel of k - stride + 1, the odd pixel on
-- the low side.
local function same_pad(kernel, stride, dilation)
  local pad = {}
  for d = 1, 2 do
    if kernel[d] < stride[d] then
      argcheck.raise(('%s: pad = "same" needs a kernel at least the stride, got kernel %s and stride %s')
        :format(NAME, base.tuple_string(kernel, false), base.tuple_string(stride, false)))
    end
    local total = (kernel[d] - stride[d]) * dilation[d]
    local hi = total // 2
    pad[2 * d - 1], pad[2 * d] = total - hi, hi
  end
  return pad
end

-- Flux's outpad: below the stride or the dilation along each dimension
-- (larger would only add outputs no input reaches), and, for oneDNN's
-- deconvolution, below the high padding plus the stride.
local function parse_outpad(value, stride, dilation, pad)
  local outpad = arguments.tuple(NAME, "outpad", value or 0, 2, 0)
  for d = 1, 2 do
    if outpad[d] >= stride[d] and outpad[d] >= dilation[d] then
      argcheck.raise(("%s: outpad must be smaller than the stride or the dilation, "
        .. "got outpad %s, stride %s, dilation %s")
        :format(NAME, base.tuple_string(outpad, false), base.tuple_string(stride, false),
          base.tuple_string(dilation, false)))
    end
    if outpad[d] >= pad[2 * d] + stride[d] then
      argcheck.raise(("%s: outpad must be smaller than the high padding plus the stride "
        .. "(oneDNN's deconvolution), got outpad %s, pad %s, stride %s")
        :format(NAME, base.tuple_string(outpad, false), base.tuple_string(pad, false),
          base.tuple_string(stride, false)))
    end
  end
  return outpad
end

--- ConvTranspose(kernel, cin, cout [, act] [, opts]): 2-D transposed
-- convolution layer, as Flux's `ConvTranspose((3,3), 16=>1, relu;
-- stride=2, pad=1)` and PyTorch's ConvTranspose2d: it maps each input
-- pixel to a kernel-sized patch of the output, the gradient of a Conv
-- with respect to its input, and so upsamples by the stride.
--
-- An input W×H×Cin×N gives W'×H'×Cout×N with
-- `W' = (W - 1)·stride - pad_lo - pad_hi + dilation·(kW - 1) + 1 + outpad`
-- (and likewise H'). `kernel` is `{kw, kh}`; `cin, cout` may also be
-- given as one pair `{cin, cout}`. `act` is applied after the bias;
-- `cnn.relu` is fused. Options:
--
-- - `pad`: an integer, `{pw, ph}`, `{w_lo, w_hi, h_lo, h_hi}` or
--   `"same"` (output size = input size × stride); default 0
-- - `stride`, `dilation`: an integer or `{w, h}`; default 1
-- - `outpad`: an integer or `{w, h}` added to the output's high side,
--   smaller than the stride or the dilation, and than the high padding
--   plus the stride (a limit of oneDNN's deconvolution); default 0
-- - `groups`: an integer dividing `cin` and `cout`, default 1
-- - `bias`: true (zeros, the default) or false
-- - `init`: the weight initialiser, default `cnn.glorot_uniform`
--
-- Fields: `weight`, kW×kH×(Cout/groups)×Cin, as Flux's (output channels
-- before input channels; PyTorch's ConvTranspose2d weight, Cin ×
-- Cout/groups × kH × kW, has the same bytes), `bias` (Cout, or nil),
-- `act`, `pad`, `stride`, `dilation`, `outpad`, `groups`.
-- @function ConvTranspose
-- @param kernel {kw, kh}
-- @param cin the input channels (or the pair {cin, cout})
-- @param cout the output channels
-- @param[opt] act the activation (identity if nil)
-- @tparam[opt] table opts pad (0), stride (1), dilation (1), outpad (0), groups (1), bias (true),
-- init (cnn.glorot_uniform)
-- @return the layer
-- @usage cnn.ConvTranspose({3, 3}, 16, 1, cnn.relu, {stride = 2, pad = 1}) -- 7×7×16×N to 13×13×1×N
local function build(kernel, cin, cout, act, opts, ...)
  arguments.conv_arity(NAME, kernel, cin, cout, act, opts, ...)
  cin, cout, act, opts = arguments.conv_channels(NAME, OPTIONS, USAGE, USAGE, cin, cout, act, opts)
  kernel = arguments.tuple(NAME, "kernel", kernel, 2, 1)
  local stride = arguments.tuple(NAME, "stride", opts.stride or 1, 2, 1)
  local dilation = arguments.tuple(NAME, "dilation", opts.dilation or 1, 2, 1)
  local pad = arguments.pad(NAME, opts.pad, function() return same_pad(kernel, stride, dilation) end)
  local outpad = parse_outpad(opts.outpad, stride, dilation, pad)
  local groups = arguments.groups(NAME, opts.groups, cin, cout)
  local bias = base.bias_option(NAME, opts.bias)
  local self = setmetatable({
    weight = base.initialised(NAME, opts.init or initialisers.glorot_uniform,
      kernel[1], kernel[2], cout // groups, cin),
    bias = bias and base.zeros(NAME, core, cout) or nil,
    act = act,
    kernel = kernel, cin = cin, cout = cout,
    pad = pad, stride = stride, dilation = dilation, outpad = outpad, groups = groups,
  }, ConvTranspose)
  self.fused = self.act ~= nil and self.act == activations.relu
  self.options = {stride = stride, pad = pad, dilation = dilation, outpad = outpad,
                  groups = groups, activation = self.fused and "relu" or nil}
  return self
end

--- The output W and H of the layer for an input of W×H (`sizes`).
local function output_sizes(self, sizes)
  local out = {}
  for d = 1, 2 do
    out[d] = (sizes[d] - 1) * self.stride[d] - self.pad[2 * d - 1] - self.pad[2 * d]
      + self.dilation[d] * (self.kernel[d] - 1) + 1 + self.outpad[d]
  end
  return out
end

function ConvTranspose:check(x)
  local msg = base.check_images(x, self.cin)
  if msg then return msg end
  local out = output_sizes(self, x:size())
  if (x:size(1) > 0 and out[1] < 1) or (x:size(2) > 0 and out[2] < 1) then
    return ("input (%s) is too small for the padding %s: the output would be %d×%d")
      :format(base.shape(x), base.tuple_string(self.pad, false), out[1], out[2])
  end
  return nil
end

function ConvTranspose:forward(x)
  local y = ops.deconv2d(x, self.weight, self.bias, self.options)
  if self.act and not self.fused then y = self.act(y) end
  return y
end

function ConvTranspose:parameters()
  return {self.weight, self.bias}
end

function ConvTranspose:describe()
  local s = ("ConvTranspose((%d, %d), %d => %d"):format(self.kernel[1], self.kernel[2],
    self.cin, self.cout) .. base.act_string(self.act) .. base.window_string(self)
  if self.outpad[1] ~= 0 or self.outpad[2] ~= 0 then s = s .. ", outpad=" .. base.tuple_string(self.outpad) end
  if self.groups ~= 1 then s = s .. ", groups=" .. self.groups end
  if not self.bias then s = s .. ", bias=false" end
  return s .. ")"
end

return base.constructor(build, ConvTranspose)
