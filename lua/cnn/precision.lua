--- Compute precision: FP32, or bfloat16 mixed precision as PyTorch's
-- autocast on the CPU. In "bf16" the forward and backward data of
-- convolutions and dense layers take their input, weights and output
-- gradient as bfloat16 (converted on the way in), accumulate in FP32 and
-- give FP32 results; everything else (activations, pooling, softmax,
-- losses, the weight gradients and the optimiser) stays FP32, and
-- parameters, optimiser state and checkpoints are Float32 tensors as
-- always. Max pooling runs oneDNN's forward, faster than the core's and
-- without its promise to keep NaN. "fp32" is the default. The precision
-- is process state: `cnn.precision(p, f)` runs f under p and puts the
-- previous one back however f ends.
-- @module cnn.precision

local core = require "cnn.core"
local argcheck = require "cnn.argcheck"
local errors = require "cnn.errors"

local M = {}

local VALID = {fp32 = true, bf16 = true}
local VALID_TEXT = '"fp32" or "bf16"'

-- Checks a precision name for `fname`: "fp32" or "bf16", else an
-- error naming fname, the value and the valid ones; and that the CPU
-- runs it (bf16 needs AVX-512). Returns the name.
function M.check(fname, name)
  if type(name) ~= "string" or not VALID[name] then
    argcheck.fail(fname, "precision", VALID_TEXT, name)
  end
  if not core.precision_supported(name) then
    errors.raise(('%s: precision "%s" needs a CPU with AVX-512: oneDNN has no %s convolution for this one')
      :format(fname, name, name))
  end
  return name
end

-- Runs `f(...)` with compute precision `name` (checked under `fname`)
-- and restores the previous precision when f returns, raises or is
-- interrupted; returns f's results.
function M.run_in(fname, name, f, ...)
  M.check(fname, name)
  if not argcheck.is_callable(f) then argcheck.fail(fname, "f", "a function", f) end
  local was = core.precision()
  local _ <close> = core.closer(core.precision, was)
  core.precision(name)
  return f(...)
end

--- The compute precision: `cnn.precision()` returns the current one
-- ("fp32" or "bf16"); `cnn.precision(p, f, ...)` runs `f(...)` with
-- precision p, returns its results and restores the previous precision
-- however f ends (an error or an interrupt included). In "bf16",
-- convolutions and dense layers take bfloat16 inputs and weights with
-- FP32 accumulation and results, as PyTorch's `torch.autocast("cpu",
-- dtype=torch.bfloat16)`; parameters, gradients, optimiser state and
-- losses stay Float32, and max pooling does not keep NaN. It needs a
-- CPU with AVX-512 (fast with AVX-512 BF16); elsewhere "bf16" is refused.
-- `cnn.train(..., {precision = "bf16"})` trains so.
-- @tparam[opt] string p "fp32" or "bf16"
-- @param[opt] f the function to run with precision p
-- @param ... f's arguments
-- @return the current precision, or f's results
-- @function precision
-- @usage print(cnn.precision()) --> fp32
-- cnn.precision("bf16", function()
--   local gs = cnn.gradient(function() return loss(x, y) end, ps)
--   cnn.update(opt, ps, gs)
-- end)
function M.precision(p, f, ...)
  if p == nil and f == nil and select("#", ...) == 0 then return core.precision() end
  return M.run_in("precision", p, f, ...)
end

return M
