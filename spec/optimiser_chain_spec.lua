-- OptimiserChain and the gradient transforms ClipGrad, ClipNorm and
-- WeightDecay: each step against the formula worked out in Lua (double
-- precision), printing, defaults and argument checks. The chains and the
-- new rules against PyTorch are in optimisers_fixture_spec.lua.
local cnn = require "cnn"
local core = cnn.core

local function near_all(t, expected)
  local got = t:totable()
  assert.are.equal(#expected, #got)
  for i = 1, #expected do
    if math.abs(got[i] - expected[i]) > 1e-6 + 1e-6 * math.abs(expected[i]) then
      error(("element %d: %.9g, expected %.9g"):format(i, got[i], expected[i]), 2)
    end
  end
end

local P0 = {1.0, -2.0, 0.25}
local G = {0.5, 4.0, -0.125}

describe("gradient transforms", function()
  it("have Optimisers.jl's defaults and print as their calls", function()
    assert.are.equal(10, cnn.ClipGrad().delta)
    assert.are.same({10, 2}, {cnn.ClipNorm().omega, cnn.ClipNorm().p})
    assert.are.equal(5e-4, cnn.WeightDecay().lambda)
    assert.are.equal("ClipNorm(1)", tostring(cnn.ClipNorm(1.0)))
    assert.are.equal("ClipNorm(1, 1)", tostring(cnn.ClipNorm(1.0, 1)))
    assert.are.equal("WeightDecay(0.0001)", tostring(cnn.WeightDecay(1e-4)))
  end)

  it("alone, subtract the transformed gradient (as Optimisers.jl's)", function()
    local p = core.tensor(P0)
    cnn.update(cnn.ClipGrad(1.0), p, core.tensor(G))
    near_all(p, {0.5, -3.0, 0.375})
    p = core.tensor(P0)
    cnn.update(cnn.WeightDecay(0.1), p, core.tensor(G))
    near_all(p, {1 - 0.5 - 0.1, -2 - 4 + 0.2, 0.25 + 0.125 - 0.025})
  end)

  it("ClipNorm rescales an array whose p-norm exceeds omega, and leaves others", function()
    local norm = math.sqrt(0.25 + 16 + 0.125 ^ 2)
    local p = core.tensor(P0)
    cnn.update(cnn.OptimiserChain(cnn.ClipNorm(2.0), cnn.Descent(0.1)), p, core.tensor(G))
    local expected = {}
    for i = 1, 3 do expected[i] = P0[i] - 0.1 * G[i] * 2.0 / norm end
    near_all(p, expected)
    p = core.tensor(P0)
    cnn.update(cnn.OptimiserChain(cnn.ClipNorm(100.0), cnn.Descent(0.1)), p, core.tensor(G))
    near_all(p, {P0[1] - 0.05, P0[2] - 0.4, P0[3] + 0.0125})
    -- the 1-norm and the infinity norm
    p = core.tensor(P0)
    cnn.update(cnn.OptimiserChain(cnn.ClipNorm(1.0, math.huge), cnn.Descent(1)), p, core.tensor(G))
    near_all(p, {1 - 0.125, -3, 0.25 + 0.125 / 4})
    p = core.tensor(P0)
    cnn.update(cnn.OptimiserChain(cnn.ClipNorm(1.0, 1), cnn.Descent(1)), p, core.tensor(G))
    local n1 = 0.5 + 4 + 0.125
    near_all(p, {1 - 0.5 / n1, -2 - 4 / n1, 0.25 + 0.125 / n1})
  end)

  it("ClipNorm measures the gradient as the transforms before it left it", function()
    -- WeightDecay(1) then ClipNorm: g + p = {1.5, 2, 0.125}
    local g2 = {1.5, 2.0, 0.125}
    local norm = math.sqrt(1.5 ^ 2 + 4 + 0.125 ^ 2)
    local p = core.tensor(P0)
    cnn.update(cnn.OptimiserChain(cnn.WeightDecay(1), cnn.ClipNorm(1.0), cnn.Descent(1)), p, core.tensor(G))
    local expected = {}
    for i = 1, 3 do expected[i] = P0[i] - g2[i] / norm end
    near_all(p, expected)
  end)

  it("ClipNorm refuses a gradient whose norm is not finite", function()
    local p = core.tensor(P0)
    assert.has_error(function()
      cnn.update(cnn.OptimiserChain(cnn.ClipNorm(1.0), cnn.ADAM()), p, core.tensor({0 / 0, 1, 2}))
    end, "ClipNorm: the gradient has 2-norm NaN; it must be finite")
  end)

  it("transforms apply in order inside the rule's pass", function()
    -- ClipGrad(1) then WeightDecay(0.5): clamp(g) + 0.5 p = {1, 0, -0.}
    local p = core.tensor(P0)
    local opt = cnn.OptimiserChain(cnn.ClipGrad(1.0), cnn.WeightDecay(0.5), cnn.Momentum(0.1, 0.9))
    cnn.update(opt, p, core.tensor(G))
    local g1 = {0.5 + 0.5, 1 - 1, -0.125 + 0.125}
    near_all(p, {1 - 0.1 * g1[1], -2 - 0.1 * g1[2], 0.25 - 0.1 * g1[3]})
    -- the other order: WeightDecay then ClipGrad
    p = core.tensor(P0)
    cnn.update(cnn.OptimiserChain(cnn.WeightDecay(0.5), cnn.ClipGrad(1.0), cnn.Descent(0.1)), p, core.tensor(G))
    near_all(p, {1 - 0.1, -2 - 0.1 * 1, 0.25 - 0.1 * 0})
  end)
end)

describe("OptimiserChain", function()
  it("prints its members and keeps the rule's state per parameter", function()
    local opt = cnn.OptimiserChain(cnn.ClipNorm(1.0), cnn.WeightDecay(1e-4), cnn.ADAM(1e-3))
    assert.are.equal("OptimiserChain(ClipNorm(1), WeightDecay(0.0001), ADAM(0.001, (0.9, 0.999)))", tostring(opt))
    local p, q = cnn.ones(3), cnn.ones(2)
    cnn.update(opt, {p, q}, {[p] = cnn.ones(3), [q] = cnn.ones(2)})
    assert.are.equal(1, opt.state[p].t)
    assert.are.equal(1, opt.state[q].t)
    assert.is_nil(next(opt.opts[3].state))
  end)

  it("with no rule subtracts the transformed gradient", function()
    local p = core.tensor(P0)
    cnn.update(cnn.OptimiserChain(), p, core.tensor(G))
    near_all(p, {0.5, -6, 0.375})
  end)

  it("refuses a rule before the end and what is not an optimiser", function()
    assert.has_error(function() cnn.OptimiserChain(cnn.ADAM(), cnn.ClipGrad(1)) end,
      "OptimiserChain: ADAM(0.001, (0.9, 0.999)) is argument 1 of 2; a rule must come last, after the "
      .. "gradient transforms (ClipGrad, ClipNorm, WeightDecay)")
    assert.has_error(function() cnn.OptimiserChain(cnn.ClipGrad(1), 0.1) end,
      "OptimiserChain: argument 2 must be an optimiser or gradient transform (cnn.ClipNorm(1.0), "
      .. "cnn.ADAM(), ...), got 0.1")
    assert.has_error(function() cnn.OptimiserChain(cnn.OptimiserChain()) end)
  end)

  it("checks its members' fields at each update", function()
    local opt = cnn.OptimiserChain(cnn.ClipGrad(1), cnn.ADAM())
    opt.opts[1].delta = -1
    assert.has_error(function() cnn.update(opt, cnn.ones(2), cnn.ones(2)) end,
      "update: opt.opts[1].delta must be a non-negative number, got -1")
  end)

  it("trains a model with cnn.train", function()
    cnn.seed(1)
    local m = cnn.Dense(3, 2)
    local x, y = cnn.rand(3, 8), cnn.rand(2, 8)
    local function loss(a, b) return cnn.mse(m(a), b) end
    local before = cnn.item(loss(x, y))
    local opt = cnn.OptimiserChain(cnn.ClipNorm(1.0), cnn.WeightDecay(1e-4), cnn.ADAM(cnn.Cos(0.05, 0.001, 20)))
    for _ = 1, 20 do cnn.train(loss, cnn.params(m), {{x, y}}, opt, {progress = false}) end
    assert.is_true(cnn.item(loss(x, y)) < before / 2)
  end)
end)

describe("the further rules", function()
  it("have Optimisers.jl's defaults", function()
    assert.are.same({0.1, 1e-8}, {cnn.AdaGrad().eta, cnn.AdaGrad().eps})
    assert.are.same({0.9, 1e-8}, {cnn.AdaDelta().rho, cnn.AdaDelta().eps})
    for _, name in ipairs{"AMSGrad", "NAdam", "RAdam", "AdaMax", "AdaBelief", "Lion"} do
      local o = cnn[name]()
      assert.are.same({0.001, {0.9, 0.999}}, {o.eta, o.beta}, name)
    end
    assert.are.equal(1e-16, cnn.AdaBelief().eps)
    assert.are.equal(1e-8, cnn.NAdam().eps)
    assert.is_nil(cnn.Lion().eps)
    assert.are.equal("AdaDelta(0.9)", tostring(cnn.AdaDelta()))
    assert.are.equal("Lion(0.001, (0.9, 0.999))", tostring(cnn.Lion()))
    assert.are.equal("AdaBelief(0.001, (0.9, 0.999), 1e-8)", tostring(cnn.AdaBelief(0.001, nil, 1e-8)))
  end)

  it("refuse bad fields, naming the constructor", function()
    assert.has_error(function() cnn.AdaGrad(-1) end, "AdaGrad: eta must be a non-negative number, got -1")
    assert.has_error(function() cnn.AdaDelta(1) end, "AdaDelta: rho must be a number in [0, 1), got 1")
    assert.has_error(function() cnn.Lion(0.1, {0.9}) end,
      "Lion: beta must be a pair of numbers in [0, 1), got {0.9}")
    assert.has_error(function() cnn.NAdam(0.1, nil, 0) end, "NAdam: eps must be a positive number, got 0")
    local opt = cnn.RAdam()
    opt.eta = "fast"
    assert.has_error(function() cnn.update(opt, cnn.ones(2), cnn.ones(2)) end,
      'update: opt.eta must be a non-negative number, got "fast"')
    assert.has_error(function() cnn.update(cnn.AMSGrad(), cnn.ones(2), cnn.ones(3)) end,
      "rule_step: gradient 3 does not match parameter 2")
  end)

  it("carry a NaN gradient into the parameter, as Julia's sign and clamp do", function()
    local p = cnn.ones(3)
    cnn.update(cnn.Lion(0.5), p, core.tensor({0 / 0, 2, -2}))
    local v = p:totable()
    assert.is_true(v[1] ~= v[1])
    assert.are.same({0.5, 1.5}, {v[2], v[3]})
    p = cnn.ones(3)
    cnn.update(cnn.OptimiserChain(cnn.ClipGrad(1), cnn.Descent(1)), p, core.tensor({0 / 0, 3, -3}))
    v = p:totable()
    assert.is_true(v[1] ~= v[1])
    assert.are.same({0, 2}, {v[2], v[3]})
  end)

  it("update every element of a long parameter as they update it alone", function()
    -- The passes run over blocks of 1,024 elements, on two threads above
    -- 32,768: 40,007 elements end in a partial block. Each element, updated
    -- three steps in the long parameter, must equal the same element
    -- updated alone.
    local n = 40007
    local picks = {1, 2, 1023, 1024, 1025, 2048, 32768, 32769, 39936, 39937, n - 1, n}
    local rules = {"Descent", "Momentum", "Nesterov", "RMSProp", "ADAM", "AdaGrad", "AdaDelta",
      "AMSGrad", "NAdam", "RAdam", "AdaMax", "AdaBelief", "Lion"}
    for _, name in ipairs(rules) do
      for _, chained in ipairs{false, true} do
        local function rule()
          local r = cnn[name]()
          return chained and cnn.OptimiserChain(cnn.ClipGrad(0.5), cnn.WeightDecay(0.1), r) or r
        end
        cnn.seed(1)
        local p, g = cnn.randn(n), cnn.randn(n)
        local p0, gv = p:totable(), g:totable()
        local long = rule()
        for _ = 1, 3 do cnn.update(long, p, g) end
        local got = p:totable()
        for _, i in ipairs(picks) do
          local alone, one = rule(), core.tensor({p0[i]})
          for _ = 1, 3 do cnn.update(alone, one, core.tensor({gv[i]})) end
          local want = one:totable()[1]
          if math.abs(got[i] - want) > 1e-6 * math.max(1, math.abs(want)) then
            error(("%s%s: element %d is %.9g in the long parameter, %.9g alone"):format(
              name, chained and " chained" or "", i, got[i], want))
          end
        end
      end
    end
  end)

  it("the C step checks its arguments", function()
    local p = core.tensor({1, 2})
    assert.has_error(function() core.rule_step("adagrad", p, p, {p:clone()}, 0.1, 0, 0, 1e-8, 0, 0) end,
      "rule_step: step must be at least 1, got 0")
    assert.has_error(function() core.rule_step("sgd", p, p, {}, 0.1, 0, 0, 1e-8, 0, 1) end,
      "rule_step: unknown rule 'sgd'")
    assert.has_error(function() core.rule_step("adagrad", p, p, {}, 0.1, 0, 0, 1e-8, 0, 1) end,
      "rule_step: adagrad keeps 1 state tensors, got 0")
    assert.has_error(function() core.descent_step(p, p, 0.1, {"shift", 1}) end,
      "descent_step: gradient transform 1 is 'shift'; valid: clamp, scale, decay")
    assert.has_error(function() core.descent_step(p, p, 0.1, {"clamp", -1}) end,
      "descent_step: gradient transform 1 needs a finite value >= 0, got -1")
    assert.has_error(function() core.grad_norm(p, p, 0) end, "grad_norm: the norm's p must be > 0 or inf, got 0")
  end)
end)
