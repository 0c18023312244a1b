--- What GroupNorm and InstanceNorm share: each sample's channels
-- normalised in groups, then a per-channel gamma and beta, then the
-- activation; and their options and input checks.
--
-- Both are the op groupnorm (cnn.ops.kernels, src/core/groupnorm.c):
-- InstanceNorm with one group per channel.
-- @module cnn.layers.channel_groups

local argcheck = require "cnn.argcheck"
local core = require "cnn.core"
local errors = require "cnn.errors"
local ops = require "cnn.ops"
local base = require "cnn.layers.base"
local arguments = require "cnn.layers.arguments"

local channel_groups = {}

--- The options both layers take, with their defaults.
channel_groups.OPTIONS = {affine = true, eps = true, track_stats = true}

--- The channels, activation and options of constructor fname (`usage`
-- its usage line), checked in that order of the arguments: the optional
-- activation and options table, the options' names, the channel count.
-- @return channels, act (not yet checked), opts
function channel_groups.arguments(fname, usage, channels, act, opts)
  act, opts = arguments.act_and_options(fname, usage, act, opts)
  opts = argcheck.options(fname, opts, channel_groups.OPTIONS)
  channels = arguments.size(fname, "channels", channels)
  return channels, act, opts
end

--- The layer of class Class from its fields (channels, and groups for
-- GroupNorm), its activation and its options (affine's default
-- `affine`): act and eps set, and gamma (ones) and beta (zeros) with affine.
function channel_groups.layer(fname, Class, fields, act, opts, affine)
  fields.act = base.activation(fname, act)
  local eps
  affine, eps = channel_groups.options(fname, opts, affine)
  fields.eps = eps
  if affine then
    fields.gamma = errors.call_prefixed(fname, core.ones, fields.channels)
    fields.beta = errors.call_prefixed(fname, core.zeros, fields.channels)
  end
  return setmetatable(fields, Class)
end

--- affine (default `affine`), eps (1e-5) from opts; track_stats must be
-- false: no running statistics are kept, so train and test mode agree.
-- @return affine, eps
function channel_groups.options(fname, opts, affine)
  affine = argcheck.optional_boolean(fname, "affine", opts.affine, affine)
  local eps = argcheck.optional_number(fname, "eps", opts.eps, 1e-5, "(0, inf)")
  if argcheck.optional_boolean(fname, "track_stats", opts.track_stats, false) then
    argcheck.raise(("%s: track_stats must be false (the layer keeps no running statistics), got true")
      :format(fname))
  end
  return affine, eps
end

--- A message when x is not a Float32 tensor of at least `min_ndims`
-- dimensions whose channel dimension (the one before the batch) has the
-- layer's channel count, else nil.
function channel_groups.check(layer, x, min_ndims, layout)
  local msg = base.check_tensor(x, "Float32")
  if msg then return msg end
  local nd = x:ndims()
  if nd < min_ndims then
    return ("input has %d dimensions (%s), expected at least %d (%s)"):format(nd, base.shape(x), min_ndims, layout)
  end
  local c = x:size(nd - 1)
  if c ~= layer.channels then
    return ("input has %d channels (%s), expected %d"):format(c, base.shape(x), layer.channels)
  end
  return nil
end

--- act(gamma .* normalise(x) .+ beta) with the statistics of each of the
-- `groups` groups of channels of each sample.
function channel_groups.forward(layer, x, groups)
  local y = ops.groupnorm(x, groups, layer.gamma, layer.beta, layer.eps)
  if layer.act then y = layer.act(y) end
  return y
end

--- The trainable tensors: gamma and beta, or none without affine.
function channel_groups.parameters(layer)
  if layer.gamma then return {layer.gamma, layer.beta} end
  return {}
end

--- The end of the layer's text: ", relu", ", affine=false", then ")".
function channel_groups.describe_tail(layer)
  return base.act_string(layer.act) .. (layer.gamma and "" or ", affine=false") .. ")"
end

return channel_groups
