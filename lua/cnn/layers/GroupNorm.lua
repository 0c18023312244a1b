--- The GroupNorm layer.
-- @module cnn.layers.GroupNorm

local argcheck = require "cnn.argcheck"
local base = require "cnn.layers.base"
local arguments = require "cnn.layers.arguments"
local channel_groups = require "cnn.layers.channel_groups"

local GroupNorm = base.class("GroupNorm")

--- GroupNorm(channels, groups [, act] [, opts]): group normalisation, as
-- Flux's GroupNorm: the C channels of each sample (C of W×H×C×N, the
-- features of features×N) split into `groups` groups of C/groups
-- consecutive channels, each group normalised by its own mean and
-- variance over W×H×(C/groups), then y = act(gamma .* x̂ .+ beta) with
-- gamma and beta per channel.
--
-- The statistics are those of the input, in training and test mode
-- alike (Flux's default track_stats=false; true is refused). Options:
-- `affine` (true: gamma and beta; false: none), `eps` (1e-5),
-- `track_stats` (false). Fields: `gamma` (ones) and `beta` (zeros),
-- trainable, in this order.
-- @function GroupNorm
-- @param channels C
-- @param groups G, dividing C
-- @param[opt] act the activation (identity if nil)
-- @tparam[opt] table opts affine (true), eps (1e-5), track_stats (false)
-- @return the layer
-- @usage cnn.Chain(cnn.Conv({3, 3}, 3, 32, {pad = 1}), cnn.GroupNorm(32, 4, cnn.relu))
local function build(channels, groups, act, opts, ...)
  argcheck.arity("GroupNorm", 4, "channels, groups, act, opts", channels, groups, act, opts, ...)
  channels, act, opts = channel_groups.arguments("GroupNorm", "GroupNorm(channels, groups [, act] [, opts])",
    channels, act, opts)
  groups = arguments.size("GroupNorm", "groups", groups)
  if channels % groups ~= 0 then
    argcheck.raise(("GroupNorm: groups must divide channels (%d), got %d"):format(channels, groups))
  end
  return channel_groups.layer("GroupNorm", GroupNorm, {channels = channels, groups = groups}, act, opts, true)
end

function GroupNorm:check(x)
  return channel_groups.check(self, x, 2, "C×N or W×H×C×N")
end

function GroupNorm:forward(x)
  return channel_groups.forward(self, x, self.groups)
end

GroupNorm.parameters = channel_groups.parameters

function GroupNorm:describe()
  return ("GroupNorm(%d, %d"):format(self.channels, self.groups) .. channel_groups.describe_tail(self)
end

return base.constructor(build, GroupNorm)
