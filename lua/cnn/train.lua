--- The training loop: cnn.train (Flux's train!) and cnn.stop.
-- @module cnn.train

local core = require "cnn.core"
local progress = require "cnn.progress"
local autograd = require "cnn.autograd"
local kind = require "cnn.optimisers.kind"
local argcheck = require "cnn.argcheck"
local errors = require "cnn.errors"
local history = require "cnn.history"
local trainlog = require "cnn.trainlog"
local dataparallel = require "cnn.dataparallel"
local precision = require "cnn.precision"

--- One flag per running cnn.train call (calls may nest in a callback);
-- cnn.stop() raises the innermost one.
local stop_requested = {}

local is_callable = argcheck.is_callable

--- A function returning the next element of `data` as a packed argument
-- list, or nil at the end. Callables are iterated as a generic `for` does
-- (`for x, y in loader do`); arrays give their elements, a plain table
-- element {x, y} being spread into loss(x, y) as Flux splats tuples.
local function elements(data)
  if is_callable(data) then
    local control
    return function()
      local r = table.pack(data(nil, control))
      if r[1] == nil then return nil end
      control = r[1]
      return r
    end
  end
  local i = 0
  return function()
    i = i + 1
    local d = data[i]
    if d == nil then return nil end
    if type(d) == "table" and getmetatable(d) == nil then
      return table.pack(table.unpack(d, 1, d.n or #d))
    end
    return table.pack(d)
  end
end

--- #data when data knows its length (arrays, or objects with __len).
local function length_of(data)
  local mt = getmetatable(data)
  if type(mt) == "table" and mt.__len then
    local ok, n = pcall(mt.__len, data)
    errors.rethrow_interrupt(ok, n)
    if ok and math.type(n) == "integer" then return n end
    return nil
  end
  if type(data) == "table" and not is_callable(data) then return #data end
  return nil
end

--- Batches per pass when data repeats an inner loader (ncycle keeps it
-- as `loader`), else the whole length.
local function pass_length_of(data, total)
  if type(data) == "table" then
    local inner = rawget(data, "loader")
    if inner ~= nil and inner ~= data then
      local n = length_of(inner)
      if n and n > 0 then return n end
    end
  end
  return total
end

--- Number of observations in a batch: the size of the last dimension of
-- its first tensor argument, or 1.
local function batch_images(args)
  local x = args[1]
  if argcheck.is_tensor(x) and not x:isfreed() and x:ndims() > 0 then
    return x:size(x:ndims())
  end
  return 1
end

local function check_callbacks(cb)
  if cb == nil then return {} end
  if is_callable(cb) then return { cb } end
  if type(cb) ~= "table" then
    error(("train: cb must be a function or a list of functions, got %s"):format(type(cb)), 3)
  end
  for i, f in ipairs(cb) do
    if not is_callable(f) then
      error(("train: cb[%d] is a %s, not a function"):format(i, type(f)), 3)
    end
  end
  return cb
end

local function call_each(callbacks, info, record)
  for _, cb in ipairs(callbacks) do
    record(cb(info))
    if stop_requested[#stop_requested] then return end
  end
end

--- Runs the callbacks after a step, giving what each returns to `record`.
-- Under a progress bar the bar's line is cleared first, so that what a
-- callback prints (a test accuracy) starts a line of its own; the next
-- step draws the bar again below it.
local function run_callbacks(callbacks, info, bar, record)
  if #callbacks == 0 then return end
  bar:clear()
  call_each(callbacks, info, record)
end

-- The loss's value, which must be a number or a 1-element tensor.
local function scalar_loss(v)
  if type(v) == "number" then return v end
  if not (argcheck.is_tensor(v) and not v:isfreed() and v:numel() == 1) then
    argcheck.fail("train", "the loss", "a number or a 1-element tensor", v)
  end
  return v
end

local function describe_nonfinite(v)
  if v ~= v then return "NaN" end
  return v > 0 and "Inf" or "-Inf"
end

local function progress_mode(option)
  if option == false or option == "none" then return "none" end
  if option == "bar" or option == "lines" then return option end
  if option ~= nil and option ~= true then
    error(("train: progress must be true, false, \"bar\" or \"lines\", got %s"):format(tostring(option)), 3)
  end
  local term = os.getenv("TERM")
  local tty = core.isatty and core.isatty(1)
  if tty and term ~= nil and term ~= "dumb" then return "bar" end
  return "lines"
end

--- One data-parallel step: this rank's slice of the global batch, its
-- gradient, and the reduction that makes it the global batch's (a rank
-- whose slice is empty contributes zeros); the ranks' random draws
-- (dropout) come from regions of their own and end at the same point.
-- Returns the global loss, the gradients and how many parameters the
-- loss reached, summed over ranks.
local function distributed_step(loss, ps, args, step)
  local mine, n, b = dataparallel.shard("train", args)
  local v, gs, reached = 0, {}, 0
  local draws = dataparallel.draws_begin()
  if n > 0 then
    local value
    value, gs, reached = autograd.withgradient_reached("train", function()
      return scalar_loss(loss(table.unpack(mine, 1, mine.n)))
    end, ps)
    v = autograd.item(value)
  end
  local total
  v, reached, total = dataparallel.reduce(ps, gs, v, reached, dataparallel.draws_taken(draws), n, b, step)
  dataparallel.draws_end(draws, total)
  return v, gs, reached
end

--- Ends the running cnn.train after the current batch (Flux.stop); the
-- callbacks after the calling one are skipped.
-- @function stop
-- @usage cnn.train(loss, ps, loader, opt, {cb = function(info) if info.loss < 0.01 then cnn.stop() end end})
local function stop()
  if #stop_requested == 0 then
    error("stop: no cnn.train is running", 2)
  end
  stop_requested[#stop_requested] = true
end

--- Trains on each element of `data` once, as Flux's train!: for each
-- element d, gs = gradient(() -> loss(d...), ps), update(opt, ps, gs),
-- then the callbacks, each given {step=, pass=, loss=} (the step of this
-- call, the pass as the history counts it, and the loss of that batch).
--
-- It records a History (its third result): the loss of every step with
-- its pass, and every number a callback returns in a table under its
-- name (a callback returning {accuracy = 0.97} gives `h.accuracy`, with
-- `h:steps_of("accuracy")` the steps). Given `history = h`, it goes on
-- recording into h, counting steps and passes on from h's last ones.
--
-- `log = "run.csv"` (or "run.jsonl") appends each step's figures (step,
-- pass, seconds since the call began, loss and the callbacks' numbers)
-- to that file: CSV as rows `step,pass,time,name,value` under a header
-- written when the file is empty, JSON lines as one object per step
-- (`{"step":3,"pass":1,"time":0.042,"loss":2.2871,"accuracy":0.9}`).
--
-- `distributed = true` trains data-parallel across the ranks of a job
-- started by mpirun (cnn.distributed), with no change to the model or
-- the loss: rank 0's parameters, optimiser state and random generator
-- go to every rank first (and parameters whose sizes differ between
-- ranks are refused); every rank draws the same global batch of B from
-- `data` and trains on its contiguous slice of about B/size (the last
-- dimension of each tensor argument); one summed reduction per step
-- gives every rank the gradient of the global batch's mean loss (each
-- slice weighted by its share of B, so an uneven last batch is
-- right), which each applies with the same optimiser, so the parameters
-- stay the same on every rank and equal, up to rounding, those of one
-- process training on the whole batches. The loss must be a mean over
-- the batch, as Flux's losses are by default. BatchNorm normalises with
-- each rank's own slice, as PyTorch's DistributedDataParallel does
-- (with its `sync = true`, with the global batch's statistics); dropout
-- draws each rank's masks from a part of the generator of its own.
-- Only rank 0 shows progress and writes the log; the callbacks run on
-- every rank (they may reduce, as cnn.accuracy's `distributed` does)
-- and get the global loss. Alone (size 1) it trains as without it.
-- @param loss function(x, y) returning a scalar loss
-- @param ps parameters (cnn.params(model))
-- @param data a DataLoader, an ncycle, any iterable of (x, y), or a Lua
--   array of {x, y} tables
-- @param opt an optimiser (ADAM(), Descent(0.1), ...); its schedules counted by step
--   move at each batch (through cnn.update), those counted by pass at the
--   start of each pass (see cnn.schedule)
-- @tparam[opt] table options cb = f or {f1, f2, ...}; progress = nil
--   (bar on a terminal, one line per pass otherwise), false, "bar" or "lines";
--   history = a History to go on recording into; log = a ".csv" or ".jsonl"
--   file name to append each step's figures to; distributed = true to
--   train data-parallel across the ranks of an mpirun job; precision =
--   "bf16" (or "fp32", the default) to train in that compute precision
--   (see cnn.precision), the previous one restored when train returns
-- @treturn number mean loss over the batches trained
-- @treturn integer batches trained
-- @treturn History what was recorded (loss per step, callback values)
-- @function train
-- @usage cnn.train(loss, cnn.params(model), cnn.DataLoader(x, y, {batchsize = 64}), cnn.Adam())
-- local _, _, h = cnn.train(loss, ps, loader, opt, {cb = function() return {accuracy = 0.9} end})
-- print(h) --> History(469 steps, 1 pass: loss, accuracy)
-- cnn.train(loss, ps, loader, cnn.Adam(), {precision = "bf16"})
local function train(loss, ps, data, opt, options)
  if not is_callable(loss) then
    error(("train: loss must be a function, got %s"):format(type(loss)), 2)
  end
  if data == nil or (type(data) ~= "table" and not is_callable(data)) then
    error(("train: data must be an iterable or an array, got %s"):format(type(data)), 2)
  end
  -- a table with a metatable is iterated through __call or read through __index
  local mt = getmetatable(data)
  if type(mt) == "table" and not is_callable(data) and rawget(mt, "__index") == nil then
    argcheck.fail("train", "data", "an iterable or an array", data)
  end
  if ps == nil then error("train: ps is nil; pass cnn.params(model)", 2) end
  if opt == nil then error("train: opt is nil; pass an optimiser such as cnn.ADAM()", 2) end
  if type(ps) == "table" then argcheck.tensor_list("train", "ps", ps) end
  -- the rest is cnn.update's to check, at the first step
  options = argcheck.options("train", options,
    {cb = true, progress = true, history = true, log = true, distributed = true, precision = true})
  local distributed = argcheck.optional_boolean("train", "options.distributed", options.distributed, false)
  if distributed and type(ps) ~= "table" then
    argcheck.fail("train", "ps", "a list of tensors such as cnn.params(model) with {distributed = true}", ps)
  end
  -- one process writes what a person reads
  local quiet = distributed and core.distributed_rank() ~= 0
  local compute = options.precision ~= nil and precision.check("train", options.precision) or nil
  local callbacks = check_callbacks(options.cb)
  local h = history.check("train", options.history)
  if distributed then
    dataparallel.check_parameters("train", ps)
    dataparallel.broadcast_start(ps, opt)
  end
  local clock = core.monotime
  local total = length_of(data)
  local pass_length = pass_length_of(data, total)
  local bar = progress.new {
    mode = quiet and "none" or progress_mode(options.progress),
    clock = clock,
    total = total,
    pass_length = pass_length,
    width = tonumber(os.getenv("COLUMNS")) or 80,
  }
  local log = not quiet and trainlog.open("train", options.log) or nil
  local start = clock()

  local depth = #stop_requested + 1
  local precision_was = core.precision()
  -- Runs however the loop ends, an error included (which propagates
  -- untouched, traceback and all), even one raised by Ctrl-C between two
  -- of these lines: the progress line is ended, so an error message
  -- starts on a line of its own, and the precision is put back.
  local _ <close> = core.closer(function()
    core.precision(precision_was)
    for i = #stop_requested, depth, -1 do stop_requested[i] = nil end
    if log then log:close() end
    bar:finish()
  end)
  stop_requested[depth] = false
  if compute then core.precision(compute) end

  local step, loss_sum = 0, 0
  local scheduled = kind.is_optimiser(opt)
  local step0, pass0 = h:last_step()
  local figures
  -- what a callback returns: recorded, and logged with the step's loss
  local function record(result)
    h:record_callback("train", step0 + step, result)
    if log and type(result) == "table" and getmetatable(result) == nil then
      for _, name in ipairs(h:names()) do
        local v = rawget(result, name)
        if name ~= "loss" and type(v) == "number" then figures[#figures + 1] = {name, v} end
      end
    end
  end
  for args in elements(data) do
    step = step + 1
    -- schedules counted by pass move at the start of each pass
    if scheduled and (step == 1 or (pass_length and pass_length > 0 and (step - 1) % pass_length == 0)) then
      kind.advance(opt, "pass")
    end
    local v, gs, reached
    if distributed then
      v, gs, reached = distributed_step(loss, ps, args, step)
    else
      local value
      value, gs, reached = autograd.withgradient_reached("train", function()
        return scalar_loss(loss(table.unpack(args, 1, args.n)))
      end, ps)
      v = autograd.item(value)
    end
    if v ~= v or v == math.huge or v == -math.huge then
      argcheck.raise(("train: loss is %s at step %d"):format(describe_nonfinite(v), step))
    end
    if reached == 0 and type(ps) == "table" and #ps > 0 then
      argcheck.raise(("train: the loss does not depend on any of the %d parameters in ps "
        .. "(no gradient at step %d)"):format(#ps, step))
    end
    -- cnn.update under train's name: ps and opt are checked there, and
    -- named as train's arguments
    kind.update("train", opt, ps, gs)
    loss_sum = loss_sum + v
    bar:step(batch_images(args), v)
    local pass = pass0 + (pass_length and pass_length > 0 and (step - 1) // pass_length + 1 or 1)
    h:record_loss(step0 + step, pass, v)
    figures = {{"loss", v}}
    run_callbacks(callbacks, { step = step, pass = pass, loss = v }, bar, record)
    if log then log:write(step0 + step, pass, clock() - start, figures) end
    if stop_requested[depth] then break end
  end
  if distributed then dataparallel.finish(ps, step) end
  return step > 0 and loss_sum / step or 0 / 0, step, h
end

return {
  train = train,
  stop = stop,
}
