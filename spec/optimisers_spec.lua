-- Optimisers: each step checked against the formula worked out in Lua
-- (double precision) on a tiny tensor.
local cnn = require "cnn"
local core = cnn.core

local function near(actual, expected, what)
  local tol = 1e-6 + 1e-6 * math.abs(expected)
  if math.abs(actual - expected) > tol then
    error(("%s: %.9g, expected %.9g"):format(what or "value", actual, expected), 2)
  end
end

local function assert_values(t, expected)
  local got = t:totable()
  assert.are.equal(#expected, #got)
  for i = 1, #expected do near(got[i], expected[i], "element " .. i) end
end

-- p and g as plain Lua arrays and as tensors
local P0 = {1.0, -2.0, 0.25}
local G1 = {0.5, 4.0, -0.125}
local G2 = {-0.25, 1.0, 0.5}

local function setup()
  return core.tensor(P0), core.tensor(G1), core.tensor(G2)
end

-- Applies an optimiser to (p, g1) then (p, g2) through cnn.update and
-- compares with a Lua reference step(state, p, g) run per element.
local function check_two_steps(opt, reference)
  local p, g1, g2 = setup()
  local ps = {p}
  cnn.update(opt, ps, {[p] = g1})
  local expected, states = {}, {}
  for i = 1, #P0 do
    states[i] = {}
    expected[i] = reference(states[i], P0[i], G1[i])
  end
  assert_values(p, expected)
  cnn.update(opt, ps, {[p] = g2})
  for i = 1, #P0 do expected[i] = reference(states[i], expected[i], G2[i]) end
  assert_values(p, expected)
end

describe("optimisers", function()
  it("Descent subtracts eta times the gradient (default eta 0.1)", function()
    local opt = cnn.Descent()
    assert.are.equal(0.1, opt.eta)
    check_two_steps(opt, function(_, p, g) return p - 0.1 * g end)
  end)

  it("Momentum keeps a velocity v = rho v - eta g and adds it", function()
    local opt = cnn.Momentum()
    assert.are.same({0.01, 0.9}, {opt.eta, opt.rho})
    check_two_steps(cnn.Momentum(0.05, 0.8), function(s, p, g)
      s.v = 0.8 * (s.v or 0) - 0.05 * g
      return p + s.v
    end)
  end)

  it("Nesterov looks ahead as Flux does", function()
    local opt = cnn.Nesterov()
    assert.are.same({0.001, 0.9}, {opt.eta, opt.rho})
    check_two_steps(cnn.Nesterov(0.05, 0.8), function(s, p, g)
      local v = s.v or 0
      local d = 0.8 ^ 2 * v - (1 + 0.8) * 0.05 * g
      s.v = 0.8 * v - 0.05 * g
      return p + d
    end)
  end)

  it("RMSProp divides by the root of a running mean square", function()
    local opt = cnn.RMSProp()
    assert.are.same({0.001, 0.9, 1e-8}, {opt.eta, opt.rho, opt.eps})
    check_two_steps(cnn.RMSProp(0.01, 0.7), function(s, p, g)
      s.a = 0.7 * (s.a or 0) + 0.3 * g * g
      return p - 0.01 * g / (math.sqrt(s.a) + 1e-8)
    end)
  end)

  local function adam_reference(eta, b1, b2, eps, decay)
    return function(s, p, g)
      s.t = (s.t or 0) + 1
      s.m = b1 * (s.m or 0) + (1 - b1) * g
      s.v = b2 * (s.v or 0) + (1 - b2) * g * g
      local mhat = s.m / (1 - b1 ^ s.t)
      local vhat = s.v / (1 - b2 ^ s.t)
      return p - eta * mhat / (math.sqrt(vhat) + eps) - decay * p
    end
  end

  it("ADAM has Flux's defaults and corrects the bias over two steps", function()
    local opt = cnn.ADAM()
    assert.are.same({0.001, {0.9, 0.999}, 1e-8}, {opt.eta, opt.beta, opt.eps})
    assert.are.equal(cnn.ADAM, cnn.Adam)
    check_two_steps(cnn.ADAM(0.01, {0.8, 0.99}), adam_reference(0.01, 0.8, 0.99, 1e-8, 0))
  end)

  it("ADAM's first step moves every element by about eta", function()
    -- m̂ = g and v̂ = g² at t = 1, so the step is eta·g/(|g| + eps)
    local p, g = setup()
    cnn.update(cnn.ADAM(), p, g)
    assert_values(p, {1 - 0.001, -2 - 0.001, 0.25 + 0.001})
  end)

  it("AdamW adds decay times the parameter, not scaled by eta", function()
    local opt = cnn.AdamW()
    assert.are.same({0.001, {0.9, 0.999}, 0}, {opt.eta, opt.beta, opt.decay})
    check_two_steps(cnn.AdamW(0.01, {0.9, 0.999}, 0.1), adam_reference(0.01, 0.9, 0.999, 1e-8, 0.1))
  end)

  it("uses a changed eta from the next step on", function()
    local opt = cnn.Descent(0.1)
    local p, g = setup()
    cnn.update(opt, {p}, {[p] = g})
    opt.eta = 0.01
    cnn.update(opt, {p}, {[p] = g})
    assert_values(p, {1 - 0.11 * 0.5, -2 - 0.11 * 4, 0.25 + 0.11 * 0.125})
  end)

  it("keeps ADAM's step count per parameter", function()
    local opt = cnn.ADAM(0.01)
    local p, g = setup()
    local q = core.tensor(P0)
    cnn.update(opt, {p, q}, {[p] = g})
    cnn.update(opt, {p, q}, {[p] = g, [q] = g})
    assert.are.equal(2, opt.state[p].t)
    assert.are.equal(1, opt.state[q].t)
    -- q's first step is a first step: each element moves by eta
    assert_values(q, {1 - 0.01, -2 - 0.01, 0.25 + 0.01})
  end)

  it("skips parameters without a gradient", function()
    local opt = cnn.Descent()
    local p, g = setup()
    local q = core.tensor(P0)
    cnn.update(opt, {p, q}, {[p] = g})
    assert_values(q, P0)
    assert.is_nil(opt.state[q])
  end)

  it("accepts a non-contiguous gradient", function()
    local p = core.tensor({1, 2})
    local g = core.tensor({{1, 2}, {3, 4}}):select(1, 1) -- {1, 2}, stride 2
    assert.is_false(g:is_contiguous())
    cnn.update(cnn.Descent(1), p, g)
    assert_values(p, {0, 0})
  end)

  it("prints as the call that makes it, trailing defaults left out", function()
    assert.are.equal("ADAM(0.001, (0.9, 0.999))", tostring(cnn.ADAM()))
    assert.are.equal("ADAM(0.01, (0.8, 0.9), 1e-7)", tostring(cnn.ADAM(0.01, {0.8, 0.9}, 1e-7)))
    assert.are.equal("AdamW(0.001, (0.9, 0.999))", tostring(cnn.AdamW()))
    assert.are.equal("AdamW(0.001, (0.9, 0.999), 0.01)", tostring(cnn.AdamW(0.001, nil, 0.01)))
    assert.are.equal("RMSProp(0.001, 0.9)", tostring(cnn.RMSProp()))
    assert.are.equal("Descent(0.1)", tostring(cnn.Descent()))
    assert.are.equal("Momentum(0.01, 0.9)", tostring(cnn.Momentum()))
  end)

  it("rejects a gradient whose size differs from the parameter's", function()
    local p = core.tensor({1, 2})
    local g = core.tensor({1, 2, 3})
    assert.has_error(function() cnn.update(cnn.ADAM(), {p}, {[p] = g}) end,
      "adam_step: gradient 3 does not match parameter 2")
    assert.has_error(function() cnn.update(cnn.Momentum(), p, g) end,
      "momentum_step: gradient 3 does not match parameter 2")
  end)

  it("takes the zeros of a parameter the loss did not use as an ordinary step", function()
    local w, u = core.tensor({1, 2}), core.tensor({3, 4})
    local function uses_u() return cnn.sum(w * u) end
    local function ignores_u() return cnn.sum(w * 2) end
    -- plain descent leaves it as it is
    cnn.update(cnn.Descent(0.1), {w, u}, cnn.gradient(ignores_u, {w, u}))
    assert.are.same({3, 4}, u:totable())
    -- Adam's moments from an earlier step decay and still move it, as a
    -- zero gradient given by hand does
    local twin = u:clone()
    local opt, opt_twin = cnn.ADAM(0.1), cnn.ADAM(0.1)
    local gs = cnn.gradient(uses_u, {w, u})
    cnn.update(opt, {u}, {[u] = gs[u]})
    cnn.update(opt_twin, {twin}, {[twin] = gs[u]:clone()})
    local before = u:clone()
    cnn.update(opt, {w, u}, cnn.gradient(ignores_u, {w, u}))
    cnn.update(opt_twin, twin, core.zeros(2))
    assert.is_true(cnn.isapprox(u, twin, 0, 0))
    assert.is_false(cnn.isapprox(u, before, 0, 1e-3))
  end)

  it("rejects what is not an optimiser", function()
    local p = core.tensor({1, 2})
    assert.has_error(function() cnn.update({}, {p}, {}) end,
      "update: expected an optimiser, got table")
  end)

  it("core step functions check their arguments", function()
    local p = core.tensor({1, 2})
    assert.has_error(function() core.adam_step(p, p, p:clone(), p:clone(), 0.1, 0.9, 0.999, 1e-8, 0) end,
      "adam_step: step must be at least 1, got 0")
    assert.has_error(function() core.rmsprop_step(p, p, p:clone(), 0.1, 0.9, 0) end,
      "rmsprop_step: eps must be a positive number, got 0")
    assert.has_error(function() core.descent_step(p, "x", 0.1) end)
  end)
end)
