--- Checkpointer: a callback that writes checkpoints (cnn.savecheckpoint)
-- during a training and keeps the best or the last few.
-- @module cnn.callbacks.checkpointer

local core = require "cnn.core"
local argcheck = require "cnn.argcheck"
local errors = require "cnn.errors"
local metric = require "cnn.callbacks.metric"
local resume = require "cnn.resume"

local Checkpointer = {}
Checkpointer.__index = Checkpointer

local known = {model = true, opt = true, loader = true, every = true, keep = true, metric = true,
  mode = true, step = true}

--- A callback for cnn.train's `cb` that counts its calls (the steps, under
-- cnn.train) and every `every` of them writes a checkpoint of `model`,
-- `opt` and `loader` to `dir/checkpoint-<step>.safetensors` (the step in
-- 8 digits, so names sort by step), with the user values `step` and,
-- given a `metric`, `metric`. With `keep = k` only k files stay: those of
-- the best k values of `metric(info)` (lowest in mode "min", highest in
-- "max"; a value no better than the worst kept is not written), or
-- without a metric the last k. Files it did not write are never removed.
-- `step` starts the count (the `step` a resumed checkpoint returned).
-- Fields: `step`, `kept` (a list of {path =, step =, metric =}, oldest
-- first). In an mpirun job (cnn.distributed) only rank 0 writes and
-- removes files; every rank calls the metric and keeps the same account.
-- @param dir an existing directory
-- @tparam table opts model (required), opt, loader, every (1), keep (all),
-- metric (a function(info) giving a number or 1-element tensor), mode
-- ("min" or "max"), step (0)
-- @return the callback, printable
-- @function Checkpointer
-- @usage local ck = cnn.Checkpointer("runs", {model = m, opt = opt, loader = loader, every = 500, keep = 3})
-- cnn.train(loss, ps, cnn.ncycle(loader, 10), opt, {cb = ck})
local function new(dir, opts)
  local fname = "Checkpointer"
  argcheck.string(fname, "dir", dir)
  if dir == "" or dir:find("\0", 1, true) then
    argcheck.fail(fname, "dir", "the name of a directory", dir)
  end
  opts = argcheck.options(fname, opts, known)
  if opts.model == nil then argcheck.fail(fname, "model", "a model (opts.model)", nil) end
  local self = {
    dir = dir, model = opts.model, opt = opts.opt, loader = opts.loader,
    every = opts.every == nil and 1 or argcheck.integer(fname, "every", opts.every, 1),
    keep = opts.keep ~= nil and argcheck.integer(fname, "keep", opts.keep, 1) or nil,
    metric = opts.metric ~= nil and argcheck.callable(fname, "metric", opts.metric) or nil,
    mode = metric.mode(fname, opts.mode),
    step = opts.step == nil and 0 or argcheck.integer(fname, "step", opts.step, 0),
    kept = {},
  }
  -- the objects are checked as savecheckpoint checks them, now rather
  -- than at the first save
  local ok, e = pcall(resume.check_objects, fname, {model = self.model, opt = self.opt,
    loader = self.loader})
  if not ok then errors.relocate(e) end
  return setmetatable(self, Checkpointer)
end

-- The position in `kept` of the file to drop: the worst value (the
-- oldest of equal ones), or the oldest without a metric.
local function worst_of(self)
  if not self.metric then return 1 end
  local worst = 1
  for i = 2, #self.kept do
    if metric.better(self.mode, self.kept[worst].metric, self.kept[i].metric, 0) then worst = i end
  end
  return worst
end

-- Writes the checkpoint of this step, raising under the callback's name.
local function save(self, path, score)
  local ok, e = pcall(resume.savecheckpoint, path, {model = self.model, opt = self.opt,
    loader = self.loader, step = self.step, metric = score})
  errors.rethrow_interrupt(ok, e)
  if not ok then
    local msg = tostring(e):gsub("^[^\n]-:%d+: ", "", 1):gsub("^savecheckpoint: ", "", 1)
    errors.raise("Checkpointer: " .. msg)
  end
end

-- One call: counts it, and on every `every`-th writes a checkpoint and
-- drops the one no longer kept.
function Checkpointer:__call(info)
  self.step = self.step + 1
  if self.step % self.every ~= 0 then return end
  local score = self.metric and metric.value("Checkpointer", self.metric, info)
  local full = self.keep and #self.kept >= self.keep
  if full and score and not metric.better(self.mode, score, self.kept[worst_of(self)].metric, 0) then
    return
  end
  local path = ("%s/checkpoint-%08d.safetensors"):format(self.dir, self.step)
  -- in an mpirun job every rank keeps the account, rank 0 writes the files
  local writes = core.distributed_rank() == 0
  if writes then save(self, path, score) end
  self.kept[#self.kept + 1] = {path = path, step = self.step, metric = score}
  if self.keep and #self.kept > self.keep then
    local dropped = table.remove(self.kept, worst_of(self)).path
    if writes then os.remove(dropped) end
  end
end

-- As the call that makes it, with what it keeps:
-- Checkpointer("runs", every=500, keep=3, mode="min"): step 1500, 3 files, best 0.12 at step 1000
function Checkpointer:__tostring()
  local parts = {("%q"):format(self.dir), ("every=%d"):format(self.every)}
  if self.keep then parts[#parts + 1] = ("keep=%d"):format(self.keep) end
  if self.metric then parts[#parts + 1] = ("mode=%q"):format(self.mode) end
  local text = ("Checkpointer(%s): step %d, %d file%s"):format(table.concat(parts, ", "), self.step,
    #self.kept, #self.kept == 1 and "" or "s")
  if self.metric and #self.kept > 0 then
    local best = self.kept[1]
    for _, k in ipairs(self.kept) do
      if metric.better(self.mode, k.metric, best.metric, 0) then best = k end
    end
    text = text .. (", best %s at step %d"):format(metric.text(best.metric), best.step)
  end
  return text
end

return new
