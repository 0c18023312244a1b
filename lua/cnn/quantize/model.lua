--- The model cnn.quantize returns: an int8 network (cnn.core's qnet)
-- behind a layer's interface, for inference only.
-- @module cnn.quantize.model

local core = require "cnn.core"
local errors = require "cnn.errors"
local autograd = require "cnn.autograd"
local base = require "cnn.layers.base"

local QuantizedModel = base.class("QuantizedModel")

local INFERENCE_ONLY = "a QuantizedModel is inference-only: it has no trainable parameters and no"
  .. " gradient; train the FP32 model and quantize it again"
--- Why cnn.params, cnn.gradient and cnn.train refuse the model.
QuantizedModel.inference_only = INFERENCE_ONLY
--- The entry that help(qm) shows.
QuantizedModel.doc = "quantize"

-- Images per slice of a big batch: a slice's int8 activations stay in
-- the caches.
local EVAL_CHUNK = 256

function QuantizedModel:check(x)
  return base.check_ndims(x, self.input_ndims, self.input_ndims == 4 and "W×H×C×N" or "features×N")
end

-- Runs the network on x in slices of one size (one plan serves them all,
-- and one more the last, shorter slice).
function QuantizedModel:forward(x)
  if autograd.isrecording() then errors.raise("QuantizedModel: " .. INFERENCE_ONLY) end
  local net, nd = self.net, x:ndims()
  local n = x:size(nd)
  local chunk = rawget(self, "evalchunk") or EVAL_CHUNK
  if chunk < 1 or n <= chunk then
    return errors.call_renamed("QuantizedModel", "qnet_forward", core.qnet_forward, net, x)
  end
  local count = (n + chunk - 1) // chunk
  chunk = (n + count - 1) // count
  local out
  for first = 1, n, chunk do
    local last = math.min(first + chunk - 1, n)
    local y = errors.call_renamed("QuantizedModel", "qnet_forward", core.qnet_forward, net,
      x:slice(nd, first, last))
    if not out then
      local sizes = y:size()
      sizes[#sizes] = n
      out = core.zeros(sizes)
    end
    out:slice(#out:size(), first, last):copy(y)
  end
  return out
end

function QuantizedModel:parameters()
  return {}
end

local function range_text(kind, r)
  if r == nil then return "Float32" end
  local lo = kind == "u8" and 0 or -r.max
  return ("%s [%.4g, %.4g]"):format(kind, lo, r.max)
end

-- {text, comment} rows: the input, then each step.
local function rows(self)
  local list = {{"input", range_text(self.input_type, self.input_range)}}
  for _, s in ipairs(self.steps) do
    local comment
    if s.kind == "conv" or s.kind == "dense" then
      comment = "s8 weights per channel, " .. range_text(s.out_type, s.out_range)
    elseif s.kind == "softmax" then
      comment = "Float32"
    else
      comment = range_text(s.out_type, s.out_range)
    end
    list[#list + 1] = {s.text, comment}
  end
  return list
end

function QuantizedModel:describe()
  local head = ("QuantizedModel(int8; %s of %d calibration images)"):format(self.method, self.calibrated)
  local list = rows(self)
  local width = 0
  for _, r in ipairs(list) do width = math.max(width, utf8.len(r[1])) end
  local lines = {head .. ":"}
  for _, r in ipairs(list) do
    lines[#lines + 1] = "  " .. r[1] .. (" "):rep(width + 2 - utf8.len(r[1])) .. "# " .. r[2]
  end
  return table.concat(lines, "\n")
end

-- An input that check refuses raises "QuantizedModel: <message>" (the
-- printed model is several lines, unlike a layer's).
local forward = QuantizedModel.forward
local function checked(self, x)
  local msg = self:check(x)
  if msg then errors.raise("QuantizedModel: " .. msg) end
  return forward(self, x)
end
QuantizedModel.forward, QuantizedModel.__call = checked, checked

return {
  --- The class, for telling a quantized model apart.
  class = QuantizedModel,
  --- Makes the model from its network and steps (see cnn.quantize).
  new = function(fields)
    return setmetatable(fields, QuantizedModel)
  end,
}
