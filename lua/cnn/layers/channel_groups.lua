--- What GroupNorm and InstanceNorm share: each sample's channels
-- normalised in groups, then a per-channel gamma and beta, then the
-- activation; and their options and input checks.
--
-- The channels of one group of one sample are consecutive in memory
-- (W×H×C×N is column-major, a group is W×H×(C/G) of it), so x seen as a
-- (W·H·C/G)×(G·N) matrix, a view, has one group per column, and layer
-- normalisation over its first dimension (oneDNN's, over the innermost)
-- normalises every group at once. gamma and beta are per channel, not per
-- element as layer normalisation's own, so they follow as broadcast ops.
-- @module cnn.layers.channel_groups

local argcheck = require "cnn.argcheck"
local ops = require "cnn.ops"
local base = require "cnn.layers.base"

local channel_groups = {}

--- The options both layers take, with their defaults.
channel_groups.OPTIONS = {affine = true, eps = true, track_stats = true}

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
  local size = x:size()
  local nd = #size
  local per = size[nd - 1] // groups
  for d = 1, nd - 2 do per = per * size[d] end
  local y = ops.layernorm(ops.reshape(x, per, groups * size[nd]), 1, nil, nil, layer.eps)
  y = ops.reshape(y, size)
  if layer.gamma then
    local bs = {}
    for d = 1, nd do bs[d] = d == nd - 1 and size[d] or 1 end
    y = ops.add(ops.mul(y, ops.reshape(layer.gamma, bs)), ops.reshape(layer.beta, bs))
  end
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
