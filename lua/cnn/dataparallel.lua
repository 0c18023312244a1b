--- Data-parallel training across the ranks of a job (cnn.train's
-- `distributed = true`): every rank holds the whole model and draws the
-- same global batch from the same loader; each trains on its contiguous
-- slice of it, and one summed reduction per step gives every rank the
-- gradient of the global batch's mean loss, which every rank applies
-- with the same optimiser, so the parameters stay the same on every rank.
-- @module cnn.dataparallel

local core = require "cnn.core"
local argcheck = require "cnn.argcheck"
local errors = require "cnn.errors"
local kind = require "cnn.optimisers.kind"
local tensorcheck = require "cnn.tensorcheck"

local is_tensor = argcheck.is_tensor

local dataparallel = {}

-- Per parameter, its number of dimensions then its sizes, padded to the
-- most dimensions a tensor has.
local MAX_DIMS = 8

local function fingerprint(ps)
  local values = {}
  for i, p in ipairs(ps) do
    local base = (i - 1) * (MAX_DIMS + 1)
    values[base + 1] = p:ndims()
    for d = 1, MAX_DIMS do values[base + 1 + d] = d <= p:ndims() and p:size(d) or 0 end
  end
  return values
end

--- Refuses parameters whose count or sizes differ between ranks, naming
-- the first parameter that differs; the same on every rank, so every
-- rank raises the same error.
function dataparallel.check_parameters(fname, ps)
  local lo = core.distributed_allreduce_number(#ps, "min")
  local hi = core.distributed_allreduce_number(#ps, "max")
  if lo ~= hi then
    argcheck.raise(("%s: the ranks have different numbers of parameters (from %d to %d; %d on rank %d); "
      .. "every rank must build the same model"):format(fname, lo, hi, #ps, core.distributed_rank()))
  end
  if #ps == 0 then return end
  local values = fingerprint(ps)
  local mins = core.distributed_allreduce(core.tensor(values, "int32"), "min"):totable()
  local maxs = core.distributed_allreduce(core.tensor(values, "int32"), "max"):totable()
  for k = 1, #values do
    if mins[k] ~= maxs[k] then
      local i = (k - 1) // (MAX_DIMS + 1) + 1
      argcheck.raise(("%s: parameter %d has different sizes on different ranks (%s on rank %d); "
        .. "every rank must build the same model"):format(fname, i, tensorcheck.shape(ps[i]),
        core.distributed_rank()))
    end
  end
end

--- Gives every rank rank 0's parameters, optimiser state (that of a
-- resumed training; a new optimiser has none yet) and random generator,
-- so that shuffles and dropout draw alike.
function dataparallel.broadcast_start(ps, opt)
  for _, p in ipairs(ps) do core.distributed_broadcast(p, 0) end
  local states = {}
  kind.each_optimiser(opt, function(o)
    if type(rawget(o, "state")) ~= "table" then return end
    for _, p in ipairs(ps) do
      local s = o.state[p]
      if s then
        local keys = {}
        for k in pairs(s) do keys[#keys + 1] = k end
        table.sort(keys)
        for _, k in ipairs(keys) do states[#states + 1] = {s, k} end
      end
    end
  end)
  local n = core.distributed_allreduce_number(#states, "max")
  if n ~= core.distributed_allreduce_number(#states, "min") then
    argcheck.raise("train: the optimiser has state on some ranks and not on others; "
      .. "every rank must resume the same checkpoint")
  end
  for _, entry in ipairs(states) do
    local s, k = entry[1], entry[2]
    local v = s[k]
    if is_tensor(v) then
      core.distributed_broadcast(v, 0)
    elseif type(v) == "number" then
      -- rank 0's number, as a sum of it and zeros
      s[k] = core.distributed_allreduce_number(core.distributed_rank() == 0 and v or 0, "sum")
      if math.type(v) == "integer" then s[k] = math.tointeger(s[k]) or s[k] end
    end
  end
  core.distributed_broadcast_rng(0)
end

--- This rank's slice of a global batch: the contiguous part
-- (rank·B/size, (rank+1)·B/size] of the last dimension of every tensor
-- argument whose last dimension is the batch's (that of the first
-- tensor). Returns the sliced arguments, the slice's size n and B.
function dataparallel.shard(fname, args)
  local first
  for i = 1, args.n do
    if is_tensor(args[i]) and args[i]:ndims() > 0 then first = args[i] break end
  end
  if first == nil then
    argcheck.raise(("%s: {distributed = true} splits each batch along the last dimension of its "
      .. "tensors, but the batch has none"):format(fname))
  end
  local b = first:size(first:ndims())
  local rank, size = core.distributed_rank(), core.distributed_size()
  local lo, hi = rank * b // size, (rank + 1) * b // size
  local out = {n = args.n}
  for i = 1, args.n do
    local a = args[i]
    if is_tensor(a) and a:ndims() > 0 and a:size(a:ndims()) == b and hi > lo then
      out[i] = a:narrow(a:ndims(), lo + 1, hi - lo)
    else
      out[i] = a
    end
  end
  return out, hi - lo, b
end

-- How far apart the ranks' random draws start within a step.
local RANK_STRIDE = 1 << 40

--- Starts a step's random draws (dropout's): every rank is at the same
-- point of the generator (rank 0's, broadcast at the start), and each
-- draws its slice's numbers from a region of its own, rank·2^40 further,
-- so that the ranks' masks differ. Returns the step's starting state.
function dataparallel.draws_begin()
  local seed, counter = core.rngstate()
  core.setrngstate(seed, counter + core.distributed_rank() * RANK_STRIDE)
  return {seed, counter}
end

--- How many numbers this rank drew since draws_begin.
function dataparallel.draws_taken(start)
  local _, counter = core.rngstate()
  return counter - start[2] - core.distributed_rank() * RANK_STRIDE
end

--- Ends a step's draws: every rank moves past the draws of all ranks
-- (their sum, reduced with the gradients: the same on every rank), so
-- that the loader's next shuffle is the same on every rank.
function dataparallel.draws_end(start, total)
  core.setrngstate(start[1], start[2] + math.floor(total + 0.5))
end

--- One summed reduction of every gradient and of the step's figures:
-- each rank contributes (n/B)·its gradients (of its slice's mean loss),
-- its loss weighted alike, how many parameters its loss reached and
-- how many random numbers it drew. gs is changed in place to the
-- gradients of the global batch's mean loss; returns that loss, the
-- total reach and the total draws.
function dataparallel.reduce(ps, gs, value, reached, draws, n, b, step)
  -- alone, the slice is the batch: nothing to reduce
  if core.distributed_size() == 1 then return value, reached, draws end
  local entries = {}
  for i, p in ipairs(ps) do
    local g = gs[p]
    if g == nil then
      g = core.zeros(p:size(), "float32")
      gs[p] = g
    end
    entries[i] = g
  end
  local sums = errors.call_renamed("train", "distributed_allreduce_bucket",
    core.distributed_allreduce_bucket, entries, n / b, {value * n / b, reached, draws, 0})
  if sums[4] > 0 then
    argcheck.raise(("train: %d rank%s had no batch %d, rank %d had one; every rank must draw as many batches "
      .. "(the same loader) and stop at the same step"):format(math.floor(sums[4] + 0.5),
      sums[4] > 1.5 and "s" or "", step, core.distributed_rank()))
  end
  return sums[1], sums[2], sums[3]
end

--- The end of a rank's batches: one more reduction of the bucket's
-- size, zeros but for the count of ranks that ended. A rank still in a
-- step meets it there and raises (reduce); here, every rank must have
-- ended, else this one raises too, so that a job whose ranks drew
-- different numbers of batches ends with a message instead of waiting.
function dataparallel.finish(ps, steps)
  if core.distributed_size() == 1 then return end
  local entries = {}
  for i, p in ipairs(ps) do entries[i] = core.zeros(p:size(), "float32") end
  local sums = errors.call_renamed("train", "distributed_allreduce_bucket",
    core.distributed_allreduce_bucket, entries, 1, {0, 0, 0, 1})
  local ended = math.floor(sums[4] + 0.5)
  if ended ~= core.distributed_size() then
    argcheck.raise(("train: rank %d ran out of batches after %d steps while %d other rank%s had more; every rank "
      .. "must draw as many batches (the same loader) and stop at the same step"):format(core.distributed_rank(),
      steps, core.distributed_size() - ended, core.distributed_size() - ended == 1 and "" or "s"))
  end
end

return dataparallel
