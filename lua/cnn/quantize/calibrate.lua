--- The calibration of cnn.quantize: the FP32 steps run on the
-- calibration images in batches, and the range of the input and of every
-- Conv's and Dense's result is measured, as the largest magnitude (the
-- largest over the batches) or a percentile of the magnitudes (the mean
-- over the batches of each batch's percentile).
-- @module cnn.quantize.calibrate

local core = require "cnn.core"
local errors = require "cnn.errors"
local argcheck = require "cnn.argcheck"

local calibrate = {}

-- The magnitude quantile and the minimum of x, or a message.
local function measure(x, p)
  local ok, q, min = pcall(core.abs_quantile, x, p)
  errors.rethrow_interrupt(ok, q)
  if not ok then return nil, tostring(q):gsub("^abs_quantile: ", "") end
  return q, min
end

-- Whether y is x reshaped to features×N (the same elements in order).
local function is_flattened(x, y, n)
  if not argcheck.is_tensor(y) or y:isfreed() or y:ndims() ~= 2 or y:size(2) ~= n
     or y:numel() ~= x:numel() or y:dtype() ~= "Float32" then
    return false
  end
  return core.maximum(core.abs(core.sub(y, core.reshape(x, -1, n)))) == 0
end

-- A running range: the largest quantile (max) or their sum (percentile).
local function merge(range, q, min, first, use_max)
  if first then return {q = q, min = min} end
  range.q = use_max and math.max(range.q, q) or range.q + q
  range.min = math.min(range.min, min)
  return range
end

--- Runs the steps on the images (the batch last) `batchsize` at a time
-- and measures the ranges: returns the input's {max, min} and sets
-- `step.range` ({max, min}) on every Conv and Dense that gives int8.
-- @param fname the public function's name, for messages
-- @param steps the steps (cnn.quantize.layers)
-- @param images the calibration images
-- @param fraction the quantile of magnitudes (1: the largest)
-- @param batchsize images per batch
function calibrate.run(fname, steps, images, fraction, batchsize)
  local nd = images:ndims()
  local n = images:size(nd)
  local input, batches = nil, 0
  local use_max = fraction == 1
  for first = 1, n, batchsize do
    local len = math.min(batchsize, n - first + 1)
    local x = images:narrow(nd, first, len)
    local q, min = measure(x, fraction)
    if not q then errors.raise(("%s: the calibration images: %s"):format(fname, min)) end
    input = merge(input, q, min, first == 1, use_max)
    for _, step in ipairs(steps) do
      local y = step.forward(x)
      if step.verify and not is_flattened(x, y, len) then
        errors.raise(("%s: %s, %s: a function must reshape W×H×C×N to features×N (a flatten) to be"
          .. " quantized, and this one does not on the calibration images"):format(fname, step.at, step.text))
      end
      if (step.kind == "conv" or step.kind == "dense") and not step.float_output then
        local sq, smin = measure(y, fraction)
        if not sq then
          errors.raise(("%s: %s, %s, on the calibration images: %s"):format(fname, step.at, step.text, smin))
        end
        step.range = merge(step.range, sq, smin, first == 1, use_max)
      end
      x = y
    end
    batches = batches + 1
  end
  local function final(r)
    local q = use_max and r.q or r.q / batches
    -- an activation that is zero throughout may take any scale
    return {max = q > 0 and q or 1, min = r.min}
  end
  for _, step in ipairs(steps) do
    if step.range then step.range = final(step.range) end
  end
  return final(input)
end

return calibrate
