--- The InstanceNorm layer.
-- @module cnn.layers.InstanceNorm

local argcheck = require "cnn.argcheck"
local base = require "cnn.layers.base"
local channel_groups = require "cnn.layers.channel_groups"

local InstanceNorm = base.class("InstanceNorm")

--- InstanceNorm(channels [, act] [, opts]): instance normalisation, as
-- Flux's InstanceNorm: each channel of each sample normalised by its own
-- mean and variance over W×H (every dimension before the channels of
-- W×H×C×N, W×C×N or W×H×D×C×N), then act(x̂), or act(gamma .* x̂ .+ beta)
-- with `affine`.
--
-- As in Flux, affine is false by default, and the statistics are those
-- of the input in training and test mode alike (track_stats=false; true
-- is refused). Options: `affine` (false), `eps` (1e-5), `track_stats`
-- (false). Fields with affine: `gamma` (ones) and `beta` (zeros),
-- trainable, in this order.
-- @function InstanceNorm
-- @param channels C
-- @param[opt] act the activation (identity if nil)
-- @tparam[opt] table opts affine (false), eps (1e-5), track_stats (false)
-- @return the layer
-- @usage cnn.Chain(cnn.Conv({3, 3}, 3, 16, {pad = 1}), cnn.InstanceNorm(16, cnn.relu, {affine = true}))
local function build(channels, act, opts, ...)
  argcheck.arity("InstanceNorm", 3, "channels, act, opts", channels, act, opts, ...)
  channels, act, opts = channel_groups.arguments("InstanceNorm", "InstanceNorm(channels [, act] [, opts])",
    channels, act, opts)
  return channel_groups.layer("InstanceNorm", InstanceNorm, {channels = channels}, act, opts, false)
end

function InstanceNorm:check(x)
  return channel_groups.check(self, x, 3, "W×C×N or W×H×C×N")
end

-- one group per channel
function InstanceNorm:forward(x)
  return channel_groups.forward(self, x, self.channels)
end

InstanceNorm.parameters = channel_groups.parameters

function InstanceNorm:describe()
  return ("InstanceNorm(%d"):format(self.channels) .. channel_groups.describe_tail(self)
end

return base.constructor(build, InstanceNorm)
