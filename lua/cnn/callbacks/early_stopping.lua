--- EarlyStopping: a callback that ends cnn.train when a metric stops
-- improving.
-- @module cnn.callbacks.early_stopping

local argcheck = require "cnn.argcheck"
local errors = require "cnn.errors"
local metric = require "cnn.callbacks.metric"
local train = require "cnn.train"

local EarlyStopping = {}
EarlyStopping.__index = EarlyStopping

local known = {patience = true, min_delta = true, mode = true}

--- A callback for cnn.train's `cb` that calls `metric_fn(info)` at each
-- call and calls cnn.stop() once the value has not improved for
-- `patience` calls in a row (Flux's early_stopping). Improving means
-- below the best value so far by more than `min_delta` in mode "min"
-- (a loss), above it by more in mode "max" (an accuracy); the first
-- value always improves. Fields: `best`, `wait` (calls without
-- improvement), `calls`, `stopped`. Use it under cnn.throttle, or with a
-- metric that is cheap, since it runs after every step.
-- @param metric_fn function(info) giving a number or a 1-element tensor
-- @tparam[opt] table opts patience (5, a positive integer), min_delta (0,
-- a non-negative number), mode ("min" or "max")
-- @return the callback, printable
-- @function EarlyStopping
-- @usage local es = cnn.EarlyStopping(function() return cnn.mse(model(vx), vy) end, {patience = 3})
-- cnn.train(loss, ps, cnn.ncycle(loader, 100), opt, {cb = es})
local function new(metric_fn, opts)
  local fname = "EarlyStopping"
  argcheck.callable(fname, "metric_fn", metric_fn)
  opts = argcheck.options(fname, opts, known)
  local self = {
    metric_fn = metric_fn,
    patience = opts.patience == nil and 5 or argcheck.integer(fname, "patience", opts.patience, 1),
    min_delta = argcheck.optional_number(fname, "min_delta", opts.min_delta, 0, "[0, inf)"),
    mode = metric.mode(fname, opts.mode),
    wait = 0, calls = 0, stopped = false,
  }
  return setmetatable(self, EarlyStopping)
end

-- One call: reads the metric, and stops the training when it is time.
function EarlyStopping:__call(info)
  local v = metric.value("EarlyStopping", self.metric_fn, info)
  self.calls = self.calls + 1
  if metric.better(self.mode, v, self.best, self.min_delta) then
    self.best, self.wait = v, 0
  else
    self.wait = self.wait + 1
  end
  if self.wait >= self.patience then
    self.stopped = true
    if not pcall(train.stop) then
      errors.raise(("EarlyStopping: no improvement for %d calls, but no cnn.train is running to stop "
        .. "(pass the callback as cnn.train's cb)"):format(self.wait))
    end
  end
end

-- As the call that makes it, with where it is:
-- EarlyStopping(patience=3, min_delta=0, mode="min"): best 0.25, 1 call without improvement
function EarlyStopping:__tostring()
  return ("EarlyStopping(patience=%d, min_delta=%s, mode=%q): best %s, %d call%s without improvement%s")
    :format(self.patience, metric.text(self.min_delta), self.mode, metric.text(self.best), self.wait,
      self.wait == 1 and "" or "s", self.stopped and ", stopped" or "")
end

return new
