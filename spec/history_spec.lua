-- cnn.train's History (its third result) and its `log` option.
local cnn = require "cnn"

-- A tiny regression: Dense(2 => 1) on 8 points, batches of 4, so a pass
-- is 2 steps.
local function setup()
  cnn.seed(3)
  local model = cnn.Dense(2, 1)
  local x = cnn.rand(2, 8)
  local y = cnn.rand(1, 8)
  local loader = cnn.DataLoader(x, y, {batchsize = 4})
  local function loss(a, b) return cnn.mse(model(a), b) end
  return model, loss, loader
end

local function read(path)
  local f = assert(io.open(path))
  local s = f:read("a")
  f:close()
  return s
end

local function lines_of(s)
  local lines = {}
  for line in s:gmatch("[^\n]+") do lines[#lines + 1] = line end
  return lines
end

describe("train's history", function()
  it("records the loss of each step, its pass, and what callbacks return", function()
    local model, loss, loader = setup()
    local seen = {}
    local function cb(info)
      seen[#seen + 1] = info.loss
      if info.step % 2 == 0 then return {accuracy = info.step / 10, score = -info.pass} end
      return nil
    end
    local mean, steps, h = cnn.train(loss, cnn.params(model), cnn.ncycle(loader, 3), cnn.Descent(0.1),
      {cb = {cb, function() return "not a table" end}, progress = false})
    assert.are.equal(6, steps)
    assert.are.equal("History(6 steps, 3 passes: loss, accuracy, score)", tostring(h))
    assert.are.equal(6, #h)
    assert.are.same({1, 2, 3, 4, 5, 6}, h.steps)
    assert.are.same({1, 1, 2, 2, 3, 3}, h.passes)
    assert.are.same(seen, h.loss)
    local sum = 0
    for _, v in ipairs(h.loss) do sum = sum + v end
    assert.is_true(math.abs(sum / 6 - mean) < 1e-12)
    assert.are.same({0.2, 0.4, 0.6}, h.accuracy)
    assert.are.same({2, 4, 6}, h:steps_of("accuracy"))
    assert.are.same({-1, -2, -3}, h.score)
    assert.are.same({"loss", "accuracy", "score"}, h:names())
    assert.is_nil(h.nothing)
    -- the arrays are copies
    h.loss[1] = 99
    assert.are.equal(seen[1], h.loss[1])
  end)

  it("goes on recording into a history given as an option", function()
    local model, loss, loader = setup()
    local ps, opt = cnn.params(model), cnn.Descent(0.1)
    local h = cnn.History()
    assert.are.equal("History(0 steps, 0 passes: loss)", tostring(h))
    local _, _, same = cnn.train(loss, ps, loader, opt, {progress = false, history = h})
    assert.are.equal(h, same)
    cnn.train(loss, ps, cnn.ncycle(loader, 2), opt, {progress = false, history = h,
      cb = function(info) return {pass_seen = info.pass} end})
    assert.are.equal("History(6 steps, 3 passes: loss, pass_seen)", tostring(h))
    assert.are.same({1, 1, 2, 2, 3, 3}, h.passes)
    assert.are.same({3, 4, 5, 6}, h:steps_of("pass_seen"))
    assert.are.same({2, 2, 3, 3}, h.pass_seen)
    assert.are.same({6, 3}, {h:last_step()})
  end)

  it("refuses a history that is not one, and a callback value under a name it keeps", function()
    local model, loss, loader = setup()
    assert.has_error(function()
      cnn.train(loss, cnn.params(model), loader, cnn.Descent(0.1), {progress = false, history = {}})
    end, "train: history must be a History such as cnn.History(), got {}")
    assert.has_error(function()
      cnn.train(loss, cnn.params(model), loader, cnn.Descent(0.1),
        {progress = false, cb = function() return {loss = 1} end})
    end, 'train: a callback returned {loss = 1}, but the history keeps "loss" for itself; name it otherwise')
  end)
end)

describe("train's log", function()
  local path
  before_each(function() path = os.tmpname() end)
  after_each(function()
    os.remove(path)
    os.remove(path .. ".csv")
    os.remove(path .. ".jsonl")
  end)

  it("appends one CSV row per figure under one header", function()
    local model, loss, loader = setup()
    local ps, opt = cnn.params(model), cnn.Descent(0.1)
    local log = path .. ".csv"
    local _, _, h = cnn.train(loss, ps, cnn.ncycle(loader, 2), opt, {progress = false, log = log,
      cb = function(info) if info.step == 4 then return {accuracy = 0.5} end end})
    cnn.train(loss, ps, loader, opt, {progress = false, log = log, history = h})
    local lines = lines_of(read(log))
    assert.are.equal("step,pass,time,name,value", lines[1])
    assert.are.equal(1 + 6 + 1, #lines)
    local rows = {}
    for i = 2, #lines do
      local step, pass, time, name, value = lines[i]:match("^(%d+),(%d+),([%d.]+),(%a+),(.+)$")
      assert.is_not_nil(step, lines[i])
      assert.is_true(tonumber(time) >= 0)
      rows[#rows + 1] = {tonumber(step), tonumber(pass), name, tonumber(value)}
    end
    local loss_values = h.loss
    assert.are.same({
      {1, 1, "loss", loss_values[1]}, {2, 1, "loss", loss_values[2]}, {3, 2, "loss", loss_values[3]},
      {4, 2, "loss", loss_values[4]}, {4, 2, "accuracy", 0.5},
      {5, 3, "loss", loss_values[5]}, {6, 3, "loss", loss_values[6]},
    }, rows)
  end)

  it("appends one JSON object per step", function()
    local model, loss, loader = setup()
    local log = path .. ".jsonl"
    local _, _, h = cnn.train(loss, cnn.params(model), loader, cnn.Descent(0.1), {progress = false, log = log,
      cb = function(info) return {accuracy = info.step == 2 and 0 / 0 or 0.25} end})
    local lines = lines_of(read(log))
    assert.are.equal(2, #lines)
    for i, line in ipairs(lines) do
      local step, time, rest = line:match('^{"step":(%d),"pass":1,"time":([%d.]+),"loss":([^,]+),')
      assert.is_not_nil(step, line)
      assert.are.equal(i, tonumber(step))
      assert.is_true(tonumber(time) >= 0)
      assert.are.equal(h.loss[i], tonumber(rest))
    end
    assert.matches(',"accuracy":0.25}$', lines[1])
    assert.matches(',"accuracy":null}$', lines[2])
  end)

  it("quotes names that need it", function()
    local model, loss, loader = setup()
    local csv, jsonl = path .. ".csv", path .. ".jsonl"
    local function cb() return {['a,"b"'] = 1} end
    cnn.train(loss, cnn.params(model), loader, cnn.Descent(0.1), {progress = false, log = csv, cb = cb})
    cnn.train(loss, cnn.params(model), loader, cnn.Descent(0.1), {progress = false, log = jsonl, cb = cb})
    assert.matches('\n1,1,[%d.]+,"a,""b""",1\n', read(csv))
    assert.matches(',"a,\\u0022b\\u0022":1}\n', read(jsonl))
  end)

  it("refuses other extensions and files it cannot open", function()
    local model, loss, loader = setup()
    assert.has_error(function()
      cnn.train(loss, cnn.params(model), loader, cnn.Descent(0.1), {progress = false, log = "run.txt"})
    end, 'train: log must be a file name ending in ".csv" or ".jsonl", got "run.txt"')
    assert.has_error(function()
      cnn.train(loss, cnn.params(model), loader, cnn.Descent(0.1), {progress = false, log = 3})
    end, "train: log must be a string, got 3")
    local ok, err = pcall(cnn.train, loss, cnn.params(model), loader, cnn.Descent(0.1),
      {progress = false, log = "/nonexistent/dir/run.csv"})
    assert.is_false(ok)
    assert.matches("train: cannot open the log /nonexistent/dir/run.csv: No such file", err)
  end)
end)
