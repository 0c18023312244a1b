--- What the callbacks share: their options' `mode`, reading a metric's
-- value, and comparing values.
-- @module cnn.callbacks.metric

local argcheck = require "cnn.argcheck"
local autograd = require "cnn.autograd"

local metric = {}

--- The mode option: "min" (default) or "max".
function metric.mode(fname, v)
  if v == nil then return "min" end
  return argcheck.choice(fname, "mode", v, {"min", "max"})
end

--- The value of metric_fn(info): a finite number, or a 1-element tensor
-- read as one; anything else raises naming `fname`.
function metric.value(fname, metric_fn, info)
  local v = metric_fn(info)
  if argcheck.is_tensor(v) and not v:isfreed() and v:numel() == 1 then v = autograd.item(v) end
  return argcheck.number(fname, "the metric's value", v)
end

--- Whether `v` improves on `best` (nil: nothing yet) by more than `delta`.
function metric.better(mode, v, best, delta)
  if best == nil then return true end
  if mode == "min" then return v < best - delta end
  return v > best + delta
end

--- A number as messages and printed callbacks show it.
function metric.text(v)
  if v == nil then return "none" end
  return math.type(v) == "integer" and ("%d"):format(v) or ("%.6g"):format(v)
end

return metric
