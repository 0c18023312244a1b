-- Schedules: each one's values against its formula, printing, argument
-- checks, and their use on optimisers through cnn.update and cnn.train.
local cnn = require "cnn"

local function near(actual, expected, what)
  if math.abs(actual - expected) > 1e-12 + 1e-12 * math.abs(expected) then
    error(("%s: %.17g, expected %.17g"):format(what or "value", actual, expected), 2)
  end
end

local function check_values(s, f, n)
  for t = 1, n do near(s(t), f(t), tostring(s) .. " at t = " .. t) end
end

local function cosine(a, b, x) return b + (a - b) * (1 + math.cos(math.pi * x)) / 2 end

describe("schedules", function()
  it("Step decays by gamma every step_size steps", function()
    check_values(cnn.Step(0.1, 0.5, 3), function(t) return 0.1 * 0.5 ^ ((t - 1) // 3) end, 20)
    assert.are.same({0.1, 0.1, 0.1, 0.05}, {cnn.Step(0.1, 0.5, 3)(1), cnn.Step(0.1, 0.5, 3)(3),
      cnn.Step(0.1, 0.5, 3)(3), cnn.Step(0.1, 0.5, 3)(4)})
  end)

  it("Exp decays by gamma every step", function()
    check_values(cnn.Exp(0.2, 0.9), function(t) return 0.2 * 0.9 ^ (t - 1) end, 20)
  end)

  it("Cos anneals from l0 to l1 and restarts after a period", function()
    local s = cnn.Cos(1e-3, 1e-5, 10)
    check_values(s, function(t) return cosine(1e-3, 1e-5, ((t - 1) % 10) / 10) end, 35)
    near(s(1), 1e-3)
    near(s(6), (1e-3 + 1e-5) / 2)
    near(s(11), 1e-3)
    local once = cnn.Cos(1.0, 0.0, 4, false)
    check_values(once, function(t) return cosine(1.0, 0.0, math.min(t - 1, 4) / 4) end, 10)
    near(once(9), 0)
  end)

  it("Linear ramps from l0 to l1 over steps, then stays", function()
    check_values(cnn.Linear(0, 1e-3, 4), function(t) return 1e-3 * math.min(t - 1, 4) / 4 end, 10)
  end)

  it("Warmup ramps to the schedule's first value, then follows it", function()
    local inner = cnn.Exp(0.1, 0.5)
    local s = cnn.Warmup(inner, 4)
    check_values(s, function(t)
      if t <= 4 then return 0.1 * t / 4 end
      return 0.1 * 0.5 ^ (t - 5)
    end, 12)
  end)

  it("OneCycle rises as a cosine to maxval, then falls to endval", function()
    local s = cnn.OneCycle(10, 0.1)
    -- up = ceil(10 * 0.25) = 3 steps, down = 7
    check_values(s, function(t)
      if t <= 3 then return cosine(0.1 / 25, 0.1, (t - 1) / 3) end
      return cosine(0.1, 0.1 / 1e5, math.min(t - 4, 7) / 7)
    end, 14)
    near(s(1), 0.004)
    near(s(4), 0.1)
    near(s(11), 1e-6)
    local custom = cnn.OneCycle(8, 1.0, {startval = 0.5, endval = 0.25, percent_start = 0.5})
    near(custom(1), 0.5)
    near(custom(5), 1.0)
    near(custom(9), 0.25)
  end)

  it("print as the calls that make them", function()
    assert.are.equal("Step(0.1, 0.5, 3)", tostring(cnn.Step(0.1, 0.5, 3)))
    assert.are.equal("Exp(0.2, 0.9)", tostring(cnn.Exp(0.2, 0.9)))
    assert.are.equal("Cos(0.001, 1e-5, 10, true)", tostring(cnn.Cos(1e-3, 1e-5, 10)))
    assert.are.equal("Linear(0, 0.001, 4)", tostring(cnn.Linear(0, 1e-3, 4)))
    assert.are.equal("Warmup(Exp(0.1, 0.5), 4)", tostring(cnn.Warmup(cnn.Exp(0.1, 0.5), 4)))
    assert.are.equal("OneCycle(10, 0.1)", tostring(cnn.OneCycle(10, 0.1)))
    assert.is_true(cnn.is_schedule(cnn.Exp(0.1, 0.5)))
    assert.is_false(cnn.is_schedule(0.1))
  end)

  it("refuse bad arguments, naming the function and what is valid", function()
    assert.has_error(function() cnn.Step(0.1, 0.5, 0) end,
      "Step: step_size must be a positive integer, got 0")
    assert.has_error(function() cnn.Exp(0.1, -1) end, "Exp: gamma must be a non-negative number, got -1")
    assert.has_error(function() cnn.Cos(1, 0, 10, "yes") end, 'Cos: restart must be true or false, got "yes"')
    assert.has_error(function() cnn.Warmup(0.1, 3) end,
      "Warmup: schedule must be a schedule (cnn.Cos(...), cnn.Exp(...), ...), got 0.1")
    assert.has_error(function() cnn.OneCycle(10, 0.1, {percent = 0.3}) end,
      'OneCycle: unknown option "percent" (valid options: endval, percent_start, startval)')
    assert.has_error(function() cnn.Exp(0.1, 0.5)(0) end, "Exp: t must be a positive integer, got 0")
    assert.has_error(function() cnn.Linear(0, 1, 3, 4) end,
      "Linear: expected at most 3 arguments (l0, l1, steps), got 4")
  end)
end)

describe("schedules on optimisers", function()
  it("a schedule given to a constructor sets eta before each cnn.update", function()
    local s = cnn.Exp(0.1, 0.5)
    local opt = cnn.Descent(s)
    assert.are.equal("Descent(Exp(0.1, 0.5))", tostring(opt))
    assert.are.equal(0.1, opt.eta)
    local p = cnn.tensor({1.0})
    local expected = 1.0
    for t = 1, 4 do
      cnn.update(opt, p, cnn.tensor({1.0}))
      expected = expected - s(t)
      near(opt.eta, s(t))
      assert.is_true(math.abs(p:totable()[1] - expected) < 1e-6)
    end
  end)

  it("cnn.schedule attaches to a chain's members that have the field", function()
    local opt = cnn.OptimiserChain(cnn.ClipGrad(1.0), cnn.ADAM())
    assert.are.equal(opt, cnn.schedule(opt, {eta = cnn.Step(0.01, 0.1, 2)}))
    assert.are.equal("OptimiserChain(ClipGrad(1), ADAM(Step(0.01, 0.1, 2), (0.9, 0.999)))", tostring(opt))
    local p = cnn.ones(3)
    for _ = 1, 3 do cnn.update(opt, p, cnn.ones(3)) end
    near(opt.opts[2].eta, 0.001)
    assert.has_error(function() cnn.schedule(opt, {rho = cnn.Exp(0.9, 1)}) end,
      "schedule: OptimiserChain(ClipGrad(1), ADAM(Step(0.01, 0.1, 2), (0.9, 0.999))) has no numeric "
      .. "field \"rho\" to schedule")
    assert.has_error(function() cnn.schedule(cnn.ADAM(), {eta = 0.1}) end,
      "schedule: fields.eta must be a schedule (cnn.Cos(...), cnn.Exp(...), ...), got 0.1")
    assert.has_error(function() cnn.schedule(cnn.ADAM(), {eta = cnn.Exp(-1, 1)}) end,
      "schedule: the first value of fields.eta must be a non-negative number, got -1.0")
    assert.has_error(function() cnn.schedule(cnn.ADAM(), {eta = cnn.Exp(1, 1)}, {every = "epoch"}) end,
      'schedule: options.every must be one of "step", "pass", got "epoch"')
  end)

  it("cnn.train steps a schedule per batch, or per pass with every = \"pass\"", function()
    local w = cnn.zeros(1)
    local data = {}
    for i = 1, 3 do data[i] = {cnn.ones(1, 1), cnn.ones(1, 1)} end
    local function loss(x, y) return cnn.sum((w * x - y) * (w * x - y)) end
    local per_step = cnn.Descent(cnn.Exp(0.1, 0.5))
    cnn.train(loss, {w}, data, per_step, {progress = false})
    near(per_step.eta, 0.1 * 0.5 ^ 2)
    local per_pass = cnn.schedule(cnn.Descent(), {eta = cnn.Exp(0.1, 0.5)}, {every = "pass"})
    cnn.train(loss, {w}, data, per_pass, {progress = false})
    near(per_pass.eta, 0.1)
    cnn.train(loss, {w}, cnn.ncycle(data, 3), per_pass, {progress = false})
    near(per_pass.eta, 0.1 * 0.5 ^ 3)
    -- a hand-written loop advances pass schedules itself
    assert.are.equal(1, cnn.advance(per_pass))
    near(per_pass.eta, 0.1 * 0.5 ^ 4)
    cnn.update(per_pass, w, cnn.ones(1))
    near(per_pass.eta, 0.1 * 0.5 ^ 4)
  end)
end)
