--- cnn.EarlyStopping and cnn.Checkpointer: when they stop a training,
-- which checkpoint files they write and keep, what they refuse, and how
-- they print.
local cnn = require "cnn"
local helpers = require "helpers"

local function describe_value(v) return require("cnn.argcheck").describe(v) end

-- A training of `n` steps on a tiny model whose callback is `cb`;
-- returns the number of steps trained.
local function run(cb, n, model)
  local m = model or cnn.Dense(2, 1)
  local data = {}
  for i = 1, n do data[i] = {cnn.rand(2, 3), cnn.rand(1, 3)} end
  local _, steps = cnn.train(function(x, y) return cnn.mse(m(x), y) end, cnn.params(m), data,
    cnn.Descent(0.01), {progress = false, cb = cb})
  return steps
end

-- A metric giving the values of `list` in turn.
local function sequence(list)
  local i = 0
  return function()
    i = i + 1
    return list[i]
  end
end

local exists = helpers.exists
local tmpdir = helpers.tmpdir

describe("EarlyStopping", function()
  it("stops after patience calls without improvement", function()
    -- best 3 at call 2; calls 3, 4 and 5 do not improve on it
    local es = cnn.EarlyStopping(sequence{4, 3, 3.5, 3, 3.2, 1}, {patience = 3})
    assert.are.equal(5, run(es, 10))
    assert.is_true(es.stopped)
    assert.are.equal(3, es.best)
    assert.are.equal(
      'EarlyStopping(patience=3, min_delta=0, mode="min"): best 3, 3 calls without improvement, stopped',
      tostring(es))
  end)

  it("counts an improvement only beyond min_delta, upwards in mode max", function()
    local es = cnn.EarlyStopping(sequence{0.5, 0.55, 0.7, 0.75, 0.78, 0.9}, {patience = 2, min_delta = 0.1,
      mode = "max"})
    -- 0.5; 0.55 is not 0.1 better; 0.7 is; 0.75 and 0.78 are not
    assert.are.equal(5, run(es, 10))
    assert.are.equal(0.7, es.best)
    local never = cnn.EarlyStopping(sequence{5, 4, 3, 2, 1}, {patience = 1})
    assert.are.equal(5, run(never, 5))
    assert.is_false(never.stopped)
    assert.are.equal(
      'EarlyStopping(patience=1, min_delta=0, mode="min"): best 1, 0 calls without improvement',
      tostring(never))
  end)

  it("reads a 1-element tensor and gets the step's info", function()
    local seen = {}
    local es = cnn.EarlyStopping(function(info)
      seen[#seen + 1] = info.step
      return cnn.tensor{2}
    end, {patience = 2})
    assert.are.equal(3, run(es, 10))
    assert.are.same({1, 2, 3}, seen)
  end)

  it("refuses what it cannot use", function()
    local f = function() return 1 end
    assert.has_error(function() cnn.EarlyStopping(nil) end,
      "EarlyStopping: metric_fn must be a function, got nil")
    assert.has_error(function() cnn.EarlyStopping(f, {patience = 0}) end,
      "EarlyStopping: patience must be a positive integer, got 0")
    assert.has_error(function() cnn.EarlyStopping(f, {min_delta = -1}) end,
      "EarlyStopping: min_delta must be a non-negative number, got -1")
    assert.has_error(function() cnn.EarlyStopping(f, {mode = "less"}) end,
      'EarlyStopping: mode must be one of "min", "max", got "less"')
    assert.has_error(function() cnn.EarlyStopping(f, {patiense = 3}) end,
      'EarlyStopping: unknown option "patiense" (valid options: min_delta, mode, patience)')
    local es = cnn.EarlyStopping(function() return "low" end)
    assert.has_error(function() run(es, 2) end,
      'EarlyStopping: the metric\'s value must be a finite number, got "low"')
    assert.has_error(function() cnn.EarlyStopping(function() return 0 / 0 end)({}) end,
      "EarlyStopping: the metric's value must be a finite number, got NaN")
    local outside = cnn.EarlyStopping(function() return 1 end, {patience = 1})
    outside({})
    assert.has_error(function() outside({}) end, "EarlyStopping: no improvement for 1 calls, but no cnn.train "
      .. "is running to stop (pass the callback as cnn.train's cb)")
  end)
end)

describe("Checkpointer", function()
  it("writes every N steps and keeps the last k", function()
    local dir = tmpdir()
    local m = cnn.Dense(2, 1)
    local ck = cnn.Checkpointer(dir, {model = m, every = 2, keep = 2})
    run(ck, 7, m)
    assert.are.equal(7, ck.step)
    assert.is_false(exists(dir .. "/checkpoint-00000002.safetensors"))
    assert.is_true(exists(dir .. "/checkpoint-00000004.safetensors"))
    assert.is_true(exists(dir .. "/checkpoint-00000006.safetensors"))
    assert.are.equal(('Checkpointer(%q, every=2, keep=2): step 7, 2 files'):format(dir), tostring(ck))
    -- the file is a checkpoint of the model at that step
    local m2 = cnn.Dense(2, 1)
    assert.are.same({step = 6}, cnn.loadcheckpoint(dir .. "/checkpoint-00000006.safetensors", {model = m2}))
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("keeps the best k by the metric, and goes on from a resumed step", function()
    local dir = tmpdir()
    local m = cnn.Dense(2, 1)
    local opt = cnn.ADAM()
    -- steps 11..16 score 5, 3, 4, 6, 1, 3
    local ck = cnn.Checkpointer(dir, {model = m, opt = opt, metric = sequence{5, 3, 4, 6, 1, 3}, keep = 2,
      step = 10})
    run(ck, 6, m)
    local left = {}
    for _, k in ipairs(ck.kept) do left[#left + 1] = k.step end
    assert.are.same({12, 15}, left)
    for step = 11, 16 do
      assert.are.equal(step == 12 or step == 15,
        exists(("%s/checkpoint-%08d.safetensors"):format(dir, step)), step)
    end
    assert.are.equal(('Checkpointer(%q, every=1, keep=2, mode="min"): step 16, 2 files, best 1 at step 15')
      :format(dir), tostring(ck))
    local user = cnn.loadcheckpoint(dir .. "/checkpoint-00000015.safetensors", {model = m, opt = cnn.ADAM()})
    assert.are.same({step = 15, metric = 1}, user)
    -- mode max keeps the highest
    local high = cnn.Checkpointer(dir, {model = m, metric = sequence{1, 3, 2}, keep = 1, mode = "max",
      step = 100})
    run(high, 3, m)
    assert.are.equal(102, high.kept[1].step)
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("refuses what it cannot use", function()
    local m = cnn.Dense(2, 1)
    assert.has_error(function() cnn.Checkpointer(1, {model = m}) end,
      "Checkpointer: dir must be a string, got 1")
    assert.has_error(function() cnn.Checkpointer("d") end,
      "Checkpointer: model must be a model (opts.model), got nil")
    assert.has_error(function() cnn.Checkpointer("d", {model = m, every = 0}) end,
      "Checkpointer: every must be a positive integer, got 0")
    assert.has_error(function() cnn.Checkpointer("d", {model = m, keep = 1.5}) end,
      "Checkpointer: keep must be a positive integer, got 1.5")
    assert.has_error(function() cnn.Checkpointer("d", {model = m, metric = 3}) end,
      "Checkpointer: metric must be a function, got 3")
    assert.has_error(function() cnn.Checkpointer("d", {model = m, opt = m}) end,
      "Checkpointer: opt must be an optimiser such as cnn.ADAM(), got " .. describe_value(m))
    assert.has_error(function() cnn.Checkpointer("d", {model = cnn.ADAM()}) end)
    local missing = cnn.Checkpointer("/nonexistent/dir", {model = m})
    local ok, e = pcall(missing, {step = 1})
    assert.is_false(ok)
    assert.matches("^[^\n]*Checkpointer: [^\n]*/nonexistent/dir/checkpoint%-00000001%.safetensors", e)
  end)
end)
