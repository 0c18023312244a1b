--- The BatchNorm layer.
-- @module cnn.layers.BatchNorm

local argcheck = require "cnn.argcheck"
local core = require "cnn.core"
local ops = require "cnn.ops"
local base = require "cnn.layers.base"
local arguments = require "cnn.layers.arguments"
local errors = require "cnn.errors"

local OPTIONS = {momentum = true, eps = true, sync = true}

local BatchNorm = base.class("BatchNorm")

--- BatchNorm(channels [, act] [, opts]): batch normalisation over the
-- channel dimension (C of W×H×C×N, the features of features×N), as
-- Flux's BatchNorm: y = act(gamma (x - mean) / sqrt(var + eps) + beta).
--
-- While active it normalises with the batch statistics and updates the
-- running ones, r = (1 - momentum) r + momentum batch (the variance
-- unbiased); inactive it uses the running statistics. Active while a
-- gradient is taken (mode "auto"), or as set by `cnn.trainmode` /
-- `cnn.testmode`. Options: `momentum` (0.1), `eps` (1e-5), `sync`
-- (false): in an mpirun job, true makes the batch statistics those of
-- the whole global batch, reduced across the ranks (PyTorch's
-- SyncBatchNorm, cnn.sync_batchnorm) instead of each rank's own share
-- (PyTorch's DistributedDataParallel default); every rank must then run
-- the layer in step, as cnn.train's `distributed` does.
-- Fields: `gamma` (ones), `beta` (zeros) — trainable, in this order —
-- and `running_mean` (zeros), `running_var` (ones).
-- @function BatchNorm
-- @param channels C
-- @param[opt] act the activation (identity if nil)
-- @tparam[opt] table opts momentum (0.1), eps (1e-5), sync (false)
-- @return the layer
-- @usage cnn.Chain(cnn.Conv({3, 3}, 1, 16), cnn.BatchNorm(16, cnn.relu))
local function build(channels, act, opts, ...)
  argcheck.arity("BatchNorm", 3, "channels, act, opts", channels, act, opts, ...)
  act, opts = arguments.act_and_options("BatchNorm", "BatchNorm(channels [, act] [, opts])", act, opts)
  opts = argcheck.options("BatchNorm", opts, OPTIONS)
  channels = arguments.size("BatchNorm", "channels", channels)
  act = base.activation("BatchNorm", act)
  local momentum = argcheck.optional_number("BatchNorm", "momentum", opts.momentum, 0.1, "[0, 1]")
  local eps = argcheck.optional_number("BatchNorm", "eps", opts.eps, 1e-5, "(0, inf)")
  local sync = argcheck.optional_boolean("BatchNorm", "sync", opts.sync, false)
  local function filled(f) return errors.call_prefixed("BatchNorm", f, channels) end
  return setmetatable({
    channels = channels,
    act = act,
    gamma = filled(core.ones), beta = filled(core.zeros),
    running_mean = filled(core.zeros), running_var = filled(core.ones),
    momentum = momentum, eps = eps, sync = sync,
    mode = "auto",
  }, BatchNorm)
end

local function channel_dim(x)
  local nd = x:ndims()
  return nd == 2 and 1 or nd - 1
end

function BatchNorm:check(x)
  local msg = base.check_tensor(x, "Float32")
  if msg then return msg end
  if x:ndims() < 2 then
    return ("input has %d dimensions (%s), expected at least 2"):format(x:ndims(), base.shape(x))
  end
  local c = x:size(channel_dim(x))
  if c ~= self.channels then
    return ("input has %d channels (%s), expected %d"):format(c, base.shape(x), self.channels)
  end
  return nil
end

function BatchNorm:forward(x)
  local active = base.is_active(self.mode)
  local y
  if active and self.sync then
    y = ops.sync_batchnorm(x, self.gamma, self.beta, self.running_mean, self.running_var, self.momentum, self.eps)
  else
    y = ops.batchnorm(x, self.gamma, self.beta, self.running_mean, self.running_var, active, self.momentum,
                      self.eps)
  end
  if self.act then y = self.act(y) end
  return y
end

function BatchNorm:parameters()
  return {self.gamma, self.beta}
end

--- bn:nontrainable(): the running statistics, which the layer keeps but
-- training does not optimise: {running_mean, running_var}.
-- @function BatchNorm:nontrainable
-- @treturn table two tensors
-- @usage cnn.BatchNorm(16):nontrainable()[1]:size() --> {16}
function BatchNorm:nontrainable()
  return {self.running_mean, self.running_var}
end

BatchNorm.set_mode = base.set_mode

function BatchNorm:describe()
  return ("BatchNorm(%d%s%s)"):format(self.channels, base.act_string(self.act), self.sync and ", sync=true" or "")
end

return base.constructor(build, BatchNorm)
