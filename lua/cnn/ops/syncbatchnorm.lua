--- Batch normalisation whose statistics are those of the whole global
-- batch of an mpirun job (PyTorch's SyncBatchNorm): BatchNorm's
-- `sync = true`.
-- @module cnn.ops.syncbatchnorm

local core = require "cnn.core"
local autograd = require "cnn.autograd"
local argcheck = require "cnn.argcheck"

local op = autograd.op

local ops = {}

-- Sizes that broadcast a per-channel vector against x (as batchnorm's).
local function channel_sizes(x)
  local n = x:ndims()
  local c = n >= 3 and n - 1 or 1
  local sizes = {}
  for d = 1, n do sizes[d] = d == c and x:size(d) or 1 end
  return sizes, x:size(c)
end

local NAME = "sync_batchnorm"

-- Checks the arguments as batchnorm's would be; returns momentum and eps.
local function check(x, gamma, beta, rm, rv, momentum, eps)
  argcheck.tensor(NAME, "x", x, "Float32")
  if x:ndims() < 2 or x:numel() == 0 then
    argcheck.fail(NAME, "x", "a non-empty W×H×C×N or C×N tensor", x)
  end
  local _, c = channel_sizes(x)
  for _, v in ipairs{{"gamma", gamma}, {"beta", beta}, {"running_mean", rm}, {"running_var", rv}} do
    argcheck.tensor(NAME, v[1], v[2], "Float32", 1)
    if v[2]:numel() ~= c then
      argcheck.fail(NAME, v[1], ("a tensor of the %d channels of x (%s)"):format(c, argcheck.shape(x)), v[2])
    end
  end
  return argcheck.optional_number(NAME, "momentum", momentum, 0.1, "[0, 1]"),
    argcheck.optional_number(NAME, "eps", eps, 1e-5, "(0, inf)")
end

-- Per channel, the sum over the job of a per-channel tensor (C values)
-- and of one more number, in one reduction.
local function job_sums(per_channel, extra)
  local c = per_channel:numel()
  local packed = core.zeros(c + 1)
  core.copy(core.narrow(packed, 1, 1, c), core.reshape(per_channel, c))
  core.fill(core.narrow(packed, 1, c + 1, 1), extra)
  core.distributed_allreduce(packed, "sum")
  return core.narrow(packed, 1, 1, c), core.item(core.narrow(packed, 1, c + 1, 1))
end

--- Batch normalisation in training mode with the statistics of the
-- global batch: per channel, the mean and (biased) variance over every
-- rank's x, reduced across the job (two allreduces forward, one
-- backward); the running statistics move towards them (the variance
-- unbiased) as batchnorm's do. The backward is that of the global
-- batch's mean loss when each rank's loss is the mean over its share
-- and the ranks' gradients are summed weighted by their shares, as
-- cnn.train's `distributed` does. Alone it equals batchnorm in training
-- mode. Every rank must call it, with a non-empty share.
-- @function sync_batchnorm
-- @tparam Tensor x W×H×C×N or C×N, this rank's share of the batch
-- @tparam Tensor gamma C
-- @tparam Tensor beta C
-- @tparam Tensor running_mean C, updated in place
-- @tparam Tensor running_var C, updated in place
-- @param[opt=0.1] momentum
-- @param[opt=1e-5] eps
-- @treturn Tensor
-- @usage cnn.sync_batchnorm(x, g, b, rm, rv)
ops.sync_batchnorm = op{
  name = NAME,
  forward = function(ctx, x, gamma, beta, rm, rv, momentum, eps)
    momentum, eps = check(x, gamma, beta, rm, rv, momentum, eps)
    x = core.contiguous(x)
    local bs, c = channel_sizes(x)
    local n = x:numel() // c
    local sum, total = job_sums(core.sum_to(x, bs), n)
    local mean = core.div(sum, total)
    local d = core.sub(x, core.reshape(mean, bs))
    local var = core.div(job_sums(core.sum_to(core.mul(d, d), bs), 0), total)
    local y = core.batchnorm(x, gamma, beta, mean, var, false, momentum, eps)
    core.copy(rm, core.add(core.mul(rm, 1 - momentum), core.mul(mean, momentum)))
    local unbiased = total > 1 and total / (total - 1) or 1
    core.copy(rv, core.add(core.mul(rv, 1 - momentum), core.mul(var, momentum * unbiased)))
    if ctx.recording then
      ctx:save(x, gamma, mean, var)
      ctx.eps, ctx.bshape, ctx.n, ctx.total = eps, bs, n, total
    end
    return y
  end,
  backward = function(ctx, gy)
    local x, gamma, mean, var = ctx.saved[1], ctx.saved[2], ctx.saved[3], ctx.saved[4]
    local bs, n, total = ctx.bshape, ctx.n, ctx.total
    gy = core.contiguous(gy)
    local inv = core.reshape(core.div(1, core.sqrt(core.add(var, ctx.eps))), bs)
    local xhat = core.mul(core.sub(x, core.reshape(mean, bs)), inv)
    local s1, s2 = core.sum_to(gy, bs), core.sum_to(core.mul(gy, xhat), bs)
    -- this rank's sums weighted by its share n/total, summed over the job
    local share = n / total
    local c = s1:numel()
    local packed = core.zeros(2 * c)
    core.copy(core.narrow(packed, 1, 1, c), core.reshape(core.mul(s1, share), c))
    core.copy(core.narrow(packed, 1, c + 1, c), core.reshape(core.mul(s2, share), c))
    core.distributed_allreduce(packed, "sum")
    local g1 = core.reshape(core.narrow(packed, 1, 1, c), bs)
    local g2 = core.reshape(core.narrow(packed, 1, c + 1, c), bs)
    local gx
    if ctx.needs[1] then
      local correction = core.div(core.add(g1, core.mul(xhat, g2)), n)
      gx = core.mul(core.sub(gy, correction), core.mul(core.reshape(gamma, bs), inv))
    end
    return gx, core.reshape(s2, -1), core.reshape(s1, -1)
  end,
}

return ops
