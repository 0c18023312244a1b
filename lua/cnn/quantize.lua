--- Int8 inference: cnn.quantize turns a trained model into one whose
-- convolutions and dense layers run in 8-bit integers.
-- @module cnn.quantize

local core = require "cnn.core"
local argcheck = require "cnn.argcheck"
local errors = require "cnn.errors"
local autograd = require "cnn.autograd"
local base = require "cnn.layers.base"
local layers = require "cnn.quantize.layers"
local calibrate = require "cnn.quantize.calibrate"
local quantized_model = require "cnn.quantize.model"

local OPTIONS = {percentile = true, batchsize = true}

-- Runs f() with the model's layers in test mode (a BatchNorm on its
-- running statistics, which a call then leaves alone), then puts each
-- back in its mode, however f ends.
local function in_testmode(model, f)
  local saved = {}
  local function visit(l)
    if type(l) ~= "table" then return end
    if l.set_mode then saved[#saved + 1] = {l, l.mode} end
    for _, child in ipairs(base.sublayers(l)) do visit(child) end
  end
  visit(model)
  local _ <close> = core.closer(function()
    for _, entry in ipairs(saved) do entry[1]:set_mode(entry[2]) end
  end)
  for _, entry in ipairs(saved) do entry[1]:set_mode("test") end
  return f()
end

-- The type and range of an int8 activation: u8 when it cannot be
-- negative (after a relu, or an input that is not), else s8.
local function int8_of(range, nonnegative)
  return nonnegative and "u8" or "s8", {max = range.max, min = range.min}
end

-- Builds the network of the calibrated steps; the type and range of each
-- result are recorded on the steps for printing.
local function build(steps, input_ndims, input_type, input_range)
  local net = core.qnet_new(input_ndims, input_range.max, input_type == "u8")
  local kind, range = input_type, input_range
  for _, s in ipairs(steps) do
    local name = s.at .. ", " .. s.text
    if s.kind == "conv" then
      kind, range = int8_of(s.range, s.act == "relu")
      local opts = {}
      for k, v in pairs(s.options) do opts[k] = v end
      opts.activation = s.act
      core.qnet_conv(net, name, s.weight, s.bias, opts, range.max, kind == "u8")
    elseif s.kind == "pool" then
      core.qnet_pool(net, name, s.pool, s.options)
    elseif s.kind == "flatten" then
      core.qnet_flatten(net, name)
    elseif s.kind == "dense" then
      if s.float_output then
        kind, range = nil, nil
        core.qnet_dense(net, name, s.weight, s.bias, s.act == "relu")
        if s.act == "softmax" then core.qnet_softmax(net, name) end
      else
        kind, range = int8_of(s.range, s.act == "relu")
        core.qnet_dense(net, name, s.weight, s.bias, s.act == "relu", range.max, kind == "u8")
      end
    elseif s.kind == "softmax" then
      core.qnet_softmax(net, name)
    end
    s.out_type, s.out_range = kind, range
    -- the network has its own copies: the FP32 layers are not kept alive
    s.weight, s.bias, s.forward = nil, nil, nil
  end
  return net
end

--- Quantizes a trained classifier for int8 inference: returns a model
-- whose convolutions and dense layers run on 8-bit integers (oneDNN's
-- u8×s8 kernels, VNNI where the CPU has it), the activations between
-- them staying int8, for `qm(x)`, `cnn.accuracy` and `cnn.confusion`.
-- `qm(x)` takes and returns Float32 tensors of the model's sizes (the
-- softmax probabilities, if the model ends with a softmax).
--
-- The FP32 model runs on `calibration_images` (the batch last; a
-- thousand training images are plenty), in test mode, to measure the
-- range of the input and of each layer's result: its largest magnitude,
-- or with `percentile = p` the p-th percentile of the magnitudes (99.99
-- clips rare outliers; the mean over calibration batches of `batchsize`
-- images, default 500). Weights are quantized with a scale per output
-- channel. Activations after a relu are u8 (0..255), others s8.
--
-- Supported layers: Conv and DepthwiseConv (relu or no activation,
-- groups, stride, padding, dilation), a BatchNorm after a Conv or Dense
-- without activation (folded into its weights), MaxPool and MeanPool,
-- Flatten (`cnn.flatten`, `cnn.Flatten()`, or a function that reshapes
-- W×H×C×N to features×N, checked on the calibration images), Dense
-- (relu or no activation), Dropout (left out), cnn.relu after a Conv or
-- Dense, and cnn.softmax last; nested Chains. Any other layer is an
-- error naming it. The last Dense gives Float32 and the softmax runs in
-- Float32.
--
-- The quantized model is for inference only: `cnn.params`,
-- `cnn.gradient` and `cnn.train` refuse it. It keeps its own copy of the
-- weights, so training the FP32 model further does not change it. Like a
-- Chain, it takes a big batch `qm.evalchunk` images at a time (256; 0
-- turns slicing off).
-- @function quantize
-- @param model a Chain (or a single layer) of the supported layers
-- @tparam Tensor calibration_images W×H×C×N images (or features×N)
-- @tparam[opt] table opts percentile (100: the largest magnitude), batchsize (500)
-- @return the quantized model
-- @usage local qm = cnn.quantize(model, X:narrow(4, 1, 1000))
-- print(cnn.accuracy(qm, tX, tY))
local function quantize(model, calibration_images, opts, ...)
  local images = calibration_images
  local fname = "quantize"
  argcheck.arity(fname, 3, "model, calibration_images, opts", model, calibration_images, opts, ...)
  if not argcheck.is_callable(model) then
    argcheck.fail(fname, "model", "a Chain or a layer", model)
  end
  if getmetatable(model) == quantized_model.class then
    errors.raise(fname .. ": the model is quantized already")
  end
  argcheck.tensor(fname, "calibration_images", images, "Float32")
  local nd = images:ndims()
  if nd ~= 4 and nd ~= 2 then
    argcheck.fail(fname, "calibration_images", "W×H×C×N images or features×N", images)
  end
  if images:size(nd) == 0 then errors.raise(fname .. ": no calibration images (" .. argcheck.shape(images) .. ")") end
  opts = argcheck.options(fname, opts, OPTIONS)
  local percentile = argcheck.optional_number(fname, "percentile", opts.percentile, 100, "(0, 100]")
  local batchsize = opts.batchsize == nil and 500 or argcheck.integer(fname, "batchsize", opts.batchsize, 1)
  if autograd.isrecording() then errors.raise(fname .. ": cannot run inside a gradient call") end
  local cycle = base.find_cycle(model)
  if cycle then errors.raise(("%s: the model contains itself: %s"):format(fname, cycle)) end
  local steps = layers.finish(fname, layers.steps(fname, model))
  -- the FP32 model must take the images: its own message otherwise
  local first = images:narrow(nd, 1, 1)
  local ok, e = pcall(in_testmode, model, function() return model(first) end)
  errors.rethrow_interrupt(ok, e)
  if not ok then
    errors.raise(fname .. ": the model does not take the calibration images: " .. tostring(e):gsub("^.-:%d+: ", "", 1))
  end
  local input = calibrate.run(fname, steps, images, percentile / 100, batchsize)
  local input_type = input.min >= 0 and "u8" or "s8"
  local net = errors.call_prefixed(fname, build, steps, nd, input_type, input)
  local method = percentile == 100 and "max-abs ranges" or ("%g%% ranges"):format(percentile)
  return quantized_model.new({net = net, steps = steps, input_ndims = nd, input_type = input_type,
    input_range = input, method = method, calibrated = images:size(nd)})
end

return {quantize = quantize}
