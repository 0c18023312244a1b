-- Layers: sizes, printing, parameters, errors and train/test modes.
local cnn = require "cnn"
local core = cnn.core
local helpers = require "helpers"

local notebook_model = helpers.notebook_model

local NOTEBOOK_TEXT = table.concat({
  "Chain(",
  "  Conv((3, 3), 1 => 16, relu, pad=1),   # 160 parameters",
  "  MaxPool((2, 2)),",
  "  Conv((3, 3), 16 => 32, relu, pad=1),  # 4_640 parameters",
  "  MaxPool((2, 2)),",
  "  Conv((3, 3), 32 => 32, relu, pad=1),  # 9_248 parameters",
  "  MaxPool((2, 2)),",
  "  flatten,",
  "  Dense(288 => 10),                     # 2_890 parameters",
  "  softmax,",
  ")                                       # Total: 8 arrays, 16_938 parameters, 66.164 KiB.",
}, "\n")

local NOTEBOOK_SUMMARY = table.concat({
  "Layer                                Output size  Parameters",
  "input                                28×28×1×1",
  "Conv((3, 3), 1 => 16, relu, pad=1)   28×28×16×1   160",
  "MaxPool((2, 2))                      14×14×16×1",
  "Conv((3, 3), 16 => 32, relu, pad=1)  14×14×32×1   4_640",
  "MaxPool((2, 2))                      7×7×32×1",
  "Conv((3, 3), 32 => 32, relu, pad=1)  7×7×32×1     9_248",
  "MaxPool((2, 2))                      3×3×32×1",
  "flatten                              288×1",
  "Dense(288 => 10)                     10×1         2_890",
  "softmax                              10×1",
  "Total: 8 arrays, 16_938 parameters",
}, "\n")

local function sizes(t) return t:size() end

describe("layers", function()
  before_each(function() cnn.seed(1) end)

  describe("printing", function()
    it("prints each layer as Flux does", function()
      assert.are.equal("Conv((3, 3), 1 => 16, relu, pad=1)",
        tostring(cnn.Conv({3, 3}, 1, 16, cnn.relu, {pad = 1})))
      assert.are.equal("Conv((3, 3), 1 => 16)", tostring(cnn.Conv({3, 3}, {1, 16})))
      assert.are.equal("Conv((5, 5), 3 => 8, sigmoid, pad=(1, 2, 1, 2), stride=2, dilation=(1, 2), bias=false)",
        tostring(cnn.Conv({5, 5}, 3, 8, cnn.sigmoid,
          {pad = {1, 2, 1, 2}, stride = 2, dilation = {1, 2}, bias = false})))
      assert.are.equal("Conv((3, 3), 2 => 4, pad=(1, 1, 2, 2))", tostring(cnn.Conv({3, 3}, 2, 4, {pad = {1, 2}})))
      assert.are.equal("MaxPool((2, 2))", tostring(cnn.MaxPool({2, 2})))
      assert.are.equal("MaxPool((3, 3), pad=1, stride=1)", tostring(cnn.MaxPool({3, 3}, {pad = 1, stride = 1})))
      assert.are.equal("MeanPool((2, 2))", tostring(cnn.MeanPool({2, 2})))
      assert.are.equal("GlobalMaxPool()", tostring(cnn.GlobalMaxPool()))
      assert.are.equal("GlobalMeanPool()", tostring(cnn.GlobalMeanPool()))
      assert.are.equal("Dense(288 => 10)", tostring(cnn.Dense(288, 10)))
      assert.are.equal("Dense(2 => 3, tanh; bias=false)", tostring(cnn.Dense({2, 3}, cnn.tanh, {bias = false})))
      assert.are.equal("Dropout(0.5)", tostring(cnn.Dropout(0.5)))
      assert.are.equal("BatchNorm(16)", tostring(cnn.BatchNorm(16)))
      assert.are.equal("BatchNorm(16, relu)", tostring(cnn.BatchNorm(16, cnn.relu)))
      assert.are.equal("Flatten()", tostring(cnn.Flatten()))
    end)

    it("prints the notebook's Chain with parameter counts and the total", function()
      assert.are.equal(NOTEBOOK_TEXT, tostring(notebook_model()))
    end)

    it("prints an anonymous function by where it was defined", function()
      local f = function(x) return x end
      local m = cnn.Chain(f)
      local line = debug.getinfo(f, "S").linedefined
      assert.are.equal(("Chain(\n  function (spec/layers_spec.lua:%d),\n)  # Total: 0 arrays, 0 parameters, 0 bytes.")
        :format(line), tostring(m))
    end)

    it("indents nested Chains", function()
      local m = cnn.Chain(cnn.Chain(cnn.Dense(2, 3), cnn.relu), cnn.Dense(3, 1))
      assert.are.equal(table.concat({
        "Chain(",
        "  Chain(",
        "    Dense(2 => 3),  # 9 parameters",
        "    relu,",
        "  ),",
        "  Dense(3 => 1),    # 4 parameters",
        ")                   # Total: 4 arrays, 13 parameters, 52 bytes.",
      }, "\n"), tostring(m))
    end)

    it("summarises output sizes for an input size", function()
      assert.are.equal(NOTEBOOK_SUMMARY, cnn.summary(notebook_model(), {28, 28, 1, 1}))
    end)
  end)

  describe("the notebook's Chain", function()
    it("has 16,938 parameters in 8 arrays, in layer order, weight before bias", function()
      local m = notebook_model()
      local ps = cnn.params(m)
      assert.are.equal(8, #ps)
      local n = 0
      for _, p in ipairs(ps) do n = n + p:numel() end
      assert.are.equal(16938, n)
      local expected = {m[1].weight, m[1].bias, m[3].weight, m[3].bias,
                        m[5].weight, m[5].bias, m[8].weight, m[8].bias}
      for i = 1, 8 do assert.are.equal(expected[i], ps[i]) end
      assert.are.same({3, 3, 1, 16}, sizes(ps[1]))
      assert.are.same({16}, sizes(ps[2]))
      assert.are.same({3, 3, 16, 32}, sizes(ps[3]))
      assert.are.same({10, 288}, sizes(ps[7]))
      assert.are.same({10}, sizes(ps[8]))
    end)

    it("gives probabilities: a 28×28×1×1 input gives a 10×1 output summing to 1", function()
      local m = notebook_model()
      local y = m(core.rand(28, 28, 1, 1))
      assert.are.same({10, 1}, sizes(y))
      assert.is_true(math.abs(core.sum(y) - 1) < 1e-5)
    end)

    it("accepts the notebook's anonymous reshape", function()
      local m = notebook_model()
      local reshaping = cnn.Chain(m[{1, 6}], function(x) return x:reshape(-1, x:size(4)) end, m[8], m[9])
      local x = core.rand(28, 28, 1, 3)
      helpers.assert_tensor_near(reshaping(x), m(x), 0, 0)
    end)

    it("is indexable: m[i], #m, m[{i, j}]", function()
      local m = notebook_model()
      assert.are.equal(9, #m)
      assert.are.equal("Dense(288 => 10)", tostring(m[8]))
      assert.are.equal(cnn.softmax, m[9])
      local head = m[{1, 2}]
      assert.are.equal(2, #head)
      assert.are.equal(m[1], head[1])
      assert.are.same({14, 14, 16, 2}, sizes(head(core.zeros(28, 28, 1, 2))))
      assert.are.equal(4, #m[{6}])
    end)
  end)

  describe("errors", function()
    it("name the Chain position and the layer for too many features", function()
      local m = notebook_model()
      -- 40×16 images end up as 5×2×32 = 320 features
      assert.has_error(function() m(core.zeros(40, 16, 1, 128)) end,
        "Chain layer 8, Dense(288 => 10): input has 320 features (320×128), expected 288")
    end)

    it("name the Chain position and the layer for wrong channels", function()
      local m = notebook_model()
      assert.has_error(function() m(core.zeros(28, 28, 3, 4)) end,
        "Chain layer 1, Conv((3, 3), 1 => 16, relu, pad=1): input has 3 channels (28×28×3×4), expected 1")
      assert.has_error(function() m(core.zeros(28, 28)) end,
        "Chain layer 1, Conv((3, 3), 1 => 16, relu, pad=1): input has 2 dimensions (28×28), expected 4 (W×H×C×N)")
    end)

    it("name the layer alone outside a Chain", function()
      assert.has_error(function() cnn.Dense(288, 10)(core.zeros(320, 128)) end,
        "Dense(288 => 10): input has 320 features (320×128), expected 288")
      assert.has_error(function() cnn.MaxPool({2, 2})(core.zeros(1, 1, 3, 2)) end,
        "MaxPool((2, 2)): input (1×1×3×2) with padding is smaller than the window (2, 2)")
      assert.has_error(function() cnn.Conv({3, 3}, 1, 2)(core.zeros(2, 2, 1, 1)) end,
        "Conv((3, 3), 1 => 2): input (2×2×1×1) with padding is smaller than the kernel (3, 3)")
      assert.has_error(function() cnn.BatchNorm(4)(core.zeros(5, 5, 3, 2)) end,
        "BatchNorm(4): input has 3 channels (5×5×3×2), expected 4")
      assert.has_error(function() cnn.Dense(2, 3)("x") end,
        "Dense(2 => 3): expected a tensor, got string")
    end)

    it("name every enclosing Chain", function()
      local m = cnn.Chain(cnn.Dense(4, 3), cnn.Chain(cnn.relu, cnn.Dense(2, 1)))
      assert.has_error(function() m(core.zeros(4, 5)) end,
        "Chain layer 2, Chain layer 2, Dense(2 => 1): input has 3 features (3×5), expected 2")
    end)

    it("reject bad layer arguments", function()
      assert.has_error(function() cnn.Conv({3}, 1, 2) end,
        "Conv: kernel must be a positive integer or a table of 2 positive integers, got {3}")
      assert.has_error(function() cnn.Conv({3, 3}, 0, 2) end, "Conv: cin must be a positive integer, got 0")
      assert.has_error(function() cnn.Conv({3, 3}, 1, 2, {stride = 0}) end,
        "Conv: stride must be a positive integer or a table of 2 positive integers, got 0")
      assert.has_error(function() cnn.Dense(2.5, 3) end, "Dense: in must be a positive integer, got 2.5")
      assert.has_error(function() cnn.Dropout(2) end, "Dropout: p must be a number in [0, 1), got 2")
      assert.has_error(function() cnn.Chain(cnn.relu, 42) end, "Chain: layer 2 is a number, not a layer or a function")
    end)
  end)

  describe("Conv", function()
    it("computes output sizes with padding, stride and dilation", function()
      local x = core.rand(9, 8, 2, 3)
      assert.are.same({9, 8, 4, 3}, sizes(cnn.Conv({3, 3}, 2, 4, {pad = 1})(x)))
      assert.are.same({7, 6, 4, 3}, sizes(cnn.Conv({3, 3}, 2, 4)(x)))
      assert.are.same({5, 4, 4, 3}, sizes(cnn.Conv({3, 3}, 2, 4, {pad = 1, stride = 2})(x)))
      assert.are.same({5, 4, 4, 3}, sizes(cnn.Conv({3, 3}, 2, 4, {dilation = 2})(x)))
      assert.are.same({9, 8, 4, 3}, sizes(cnn.Conv({4, 5}, 2, 4, {pad = "same"})(x)))
    end)

    it("applies the activation after the bias, fused or not", function()
      local x = core.randn(6, 6, 2, 1)
      local plain = cnn.Conv({3, 3}, 2, 3)
      plain.bias:copy(core.tensor({0.5, -0.5, 0.1}))
      for _, act in ipairs({cnn.relu, cnn.sigmoid}) do
        local c = cnn.Conv({3, 3}, 2, 3, act)
        c.weight:copy(plain.weight)
        c.bias:copy(plain.bias)
        helpers.assert_tensor_near(c(x), act(plain(x)), 1e-6, 1e-6)
      end
    end)

    it("fuses relu, tanh and sigmoid with the gradients of the activation after the convolution", function()
      -- LeNet's second layer: 6 channels in, blocked layouts throughout
      local x = core.randn(14, 14, 6, 3)
      local plain = cnn.Conv({5, 5}, 6, 16)
      plain.bias:copy(core.randn(16))
      for _, act in ipairs({cnn.relu, cnn.tanh, cnn.sigmoid, cnn.elu}) do
        local c = cnn.Conv({5, 5}, 6, 16, act)
        assert.are.equal(act ~= cnn.elu, c.fused)
        c.weight:copy(plain.weight)
        c.bias:copy(plain.bias)
        local function loss_of(f) return function(input) return cnn.sum(f(input) * f(input)) end end
        local fused_y, unfused_y = c(x), act(plain(x))
        helpers.assert_tensor_near(fused_y, unfused_y, 1e-6, 1e-6)
        local gx = cnn.gradient(loss_of(c), x)
        local rx = cnn.gradient(loss_of(function(input) return act(plain(input)) end), x)
        helpers.assert_tensor_near(gx, rx, 1e-5, 1e-5)
        local gs = cnn.gradient(function() return loss_of(c)(x) end, cnn.params(c))
        local rs = cnn.gradient(function() return loss_of(function(input) return act(plain(input)) end)(x) end,
          cnn.params(plain))
        helpers.assert_tensor_near(gs[c.weight], rs[plain.weight], 1e-5, 1e-5)
        helpers.assert_tensor_near(gs[c.bias], rs[plain.bias], 1e-5, 1e-5)
      end
    end)

    it("initialises weights with glorot_uniform and the bias with zeros", function()
      local c = cnn.Conv({3, 3}, 1, 16)
      local s = math.sqrt(6 / (9 + 144))
      assert.is_true(core.maximum(c.weight) <= s and core.minimum(c.weight) >= -s)
      assert.is_true(core.maximum(c.weight) > 0.9 * s and core.minimum(c.weight) < -0.9 * s)
      assert.are.equal(0, core.maximum(core.abs(c.bias)))
      assert.is_nil(cnn.Conv({3, 3}, 1, 16, {bias = false}).bias)
      assert.are.equal(1, #cnn.params(cnn.Conv({3, 3}, 1, 16, {bias = false})))
    end)
  end)

  describe("pools and Dense", function()
    it("pool with floor sizes, and mean pools average", function()
      local x = core.tensor({{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}):reshape(3, 3, 1, 1)
      assert.are.same({1, 1, 1, 1}, sizes(cnn.MaxPool({2, 2})(x)))
      assert.are.equal(5, cnn.MaxPool({2, 2})(x):item())
      assert.are.equal(3, cnn.MeanPool({2, 2})(x):item())
      assert.are.same({2, 2, 1, 1}, sizes(cnn.MaxPool({2, 2}, {stride = 1})(x)))
      assert.are.equal(9, cnn.GlobalMaxPool()(x):item())
      assert.are.equal(5, cnn.GlobalMeanPool()(x):item())
      assert.are.same({1, 1, 4, 2}, sizes(cnn.GlobalMeanPool()(core.rand(5, 6, 4, 2))))
    end)

    it("Dense computes W x + b and accepts a vector", function()
      local d = cnn.Dense(2, 3, nil, {init = function(o, i) return core.ones(o, i) end})
      d.bias:copy(core.tensor({1, 2, 3}))
      local y = d(core.tensor({{1, 10}, {2, 20}}))
      assert.are.same({{4, 31}, {5, 32}, {6, 33}}, y:totable())
      assert.are.same({4, 5, 6}, d(core.tensor({1, 2})):totable())
    end)

    it("Flatten merges all but the last dimension", function()
      assert.are.same({24, 5}, sizes(cnn.Flatten()(core.zeros(2, 3, 4, 5))))
      assert.are.same({24, 5}, sizes(cnn.flatten(core.zeros(2, 3, 4, 5))))
    end)
  end)

  describe("params", function()
    it("lists shared layers once and skips functions", function()
      local d = cnn.Dense(3, 3)
      local m = cnn.Chain(d, cnn.relu, cnn.Chain(d, cnn.Dense(3, 1)))
      local ps = cnn.params(m)
      assert.are.equal(4, #ps)
      assert.are.equal(d.weight, ps[1])
      assert.are.equal(d.bias, ps[2])
    end)

    it("are what cnn.gradient differentiates", function()
      local m = cnn.Chain(cnn.Dense(3, 2, cnn.relu), cnn.Dense(2, 1))
      local x = core.rand(3, 4)
      local ps = cnn.params(m)
      local gs = cnn.gradient(function() return cnn.sum(m(x)) end, ps)
      for _, p in ipairs(ps) do assert.are.same(sizes(p), sizes(gs[p])) end
    end)
  end)

  describe("modes", function()
    local x = core.ones(100, 20)

    local function zero_fraction(y)
      return core.sum(core.eq(y, 0)) / y:numel()
    end

    it("Dropout is the identity outside a gradient call by default", function()
      local d = cnn.Dropout(0.5)
      helpers.assert_tensor_near(d(x), x, 0, 0)
    end)

    it("Dropout drops inside a gradient call and scales the rest", function()
      local d = cnn.Dropout(0.5)
      local g = cnn.gradient(function(x1) return cnn.sum(d(x1)) end, x)
      local f = zero_fraction(g)
      assert.is_true(f > 0.4 and f < 0.6, "fraction dropped " .. f)
      assert.are.equal(2, core.maximum(g))
    end)

    it("Dropout after a layer is active in a gradient with respect to parameters", function()
      local d = cnn.Dense(100, 100, nil, {init = function(o, i) return core.zeros(o, i) end})
      d.bias:copy(core.ones(100))
      local m = cnn.Chain(d, cnn.Dropout(0.5))
      local gs = cnn.gradient(function() return cnn.sum(m(x)) end, cnn.params(m))
      -- the bias gradient is, per output, twice the number of the 20
      -- samples that were kept: 20 for every output if nothing were dropped
      local g = gs[d.bias]
      assert.is_true(core.maximum(g) > core.minimum(g))
      local kept = core.sum(g) / 2 / (100 * 20)
      assert.is_true(kept > 0.45 and kept < 0.55, "fraction kept " .. kept)
    end)

    it("trainmode and testmode override the automatic mode", function()
      local d = cnn.Dropout(0.5)
      local m = cnn.Chain(cnn.Chain(d))
      assert.are.equal(m, cnn.trainmode(m))
      local f = zero_fraction(m(x))
      assert.is_true(f > 0.4 and f < 0.6, "fraction dropped " .. f)
      cnn.testmode(m)
      local g = cnn.gradient(function(x1) return cnn.sum(m(x1)) end, x)
      helpers.assert_tensor_near(g, core.ones(100, 20), 0, 0)
      cnn.testmode(m, false)
      assert.are.equal("train", d.mode)
      cnn.trainmode(m, "auto")
      assert.are.equal("auto", d.mode)
      helpers.assert_tensor_near(m(x), x, 0, 0)
    end)

    it("BatchNorm normalises with batch statistics in train mode and updates the running ones", function()
      local bn = cnn.BatchNorm(2)
      local xb = core.tensor({{1, 3}, {2, 6}}) -- channel 1: 1, 3; channel 2: 2, 6
      cnn.trainmode(bn)
      local y = bn(xb)
      local s1 = 1 / math.sqrt(1 + 1e-5)
      local s2 = 2 / math.sqrt(4 + 1e-5)
      helpers.assert_tensor_near(y, core.tensor({{-s1, s1}, {-s2, s2}}), 1e-5, 1e-6)
      -- running mean 0.9·0 + 0.1·mean, running var 0.9·1 + 0.1·(unbiased var)
      helpers.assert_tensor_near(bn.running_mean, core.tensor({0.2, 0.4}), 1e-5, 1e-6)
      helpers.assert_tensor_near(bn.running_var, core.tensor({0.9 + 0.2, 0.9 + 0.8}), 1e-5, 1e-6)
    end)

    it("BatchNorm uses the running statistics outside a gradient call and leaves them", function()
      local bn = cnn.BatchNorm(2)
      local xb = core.tensor({{1, 3}, {2, 6}})
      local y = bn(xb)
      helpers.assert_tensor_near(y, core.div(xb, math.sqrt(1 + 1e-5)), 1e-5, 1e-6)
      helpers.assert_tensor_near(bn.running_mean, core.zeros(2), 0, 0)
      cnn.gradient(function() return cnn.sum(bn(xb)) end, cnn.params(bn))
      helpers.assert_tensor_near(bn.running_mean, core.tensor({0.2, 0.4}), 1e-5, 1e-6)
    end)

    it("summary leaves BatchNorm's statistics alone even in train mode", function()
      local m = cnn.trainmode(cnn.Chain(cnn.Conv({3, 3}, 1, 2), cnn.BatchNorm(2, cnn.relu)))
      local text = cnn.summary(m, {5, 5, 1, 2})
      assert.are.equal(table.concat({
        "Layer                           Output size  Parameters",
        "input                           5×5×1×2",
        "Conv((3, 3), 1 => 2)            3×3×2×2      20",
        "BatchNorm(2, relu)              3×3×2×2      4",
        "Total: 4 arrays, 24 parameters",
      }, "\n"), text)
      helpers.assert_tensor_near(m[2].running_var, core.ones(2), 0, 0)
      assert.are.equal("train", m[2].mode)
    end)
  end)

  describe("initialisers", function()
    it("are reproducible under cnn.seed", function()
      cnn.seed(7)
      local a = cnn.glorot_uniform(3, 4)
      cnn.seed(7)
      helpers.assert_tensor_near(cnn.glorot_uniform({3, 4}), a, 0, 0)
    end)

    it("use Flux's fans", function()
      local n = 20000
      local function std(t) return math.sqrt(core.mean(core.mul(t, t))) end
      -- a kernel 3×3×16×32: fan_in 144, fan_out 288
      local w = cnn.glorot_uniform(3, 3, 16, 32)
      assert.is_true(core.maximum(core.abs(w)) <= math.sqrt(6 / 432))
      local g = cnn.glorot_normal(n, 100) -- fan_in 100, fan_out n
      assert.is_true(math.abs(std(g) / math.sqrt(2 / (n + 100)) - 1) < 0.02)
      local k = cnn.kaiming_normal(100, n) -- fan_in n
      assert.is_true(math.abs(std(k) / math.sqrt(2 / n) - 1) < 0.02)
      local u = cnn.kaiming_uniform(100, n, {gain = 1})
      assert.is_true(core.maximum(core.abs(u)) <= math.sqrt(3 / n))
      assert.is_true(core.maximum(core.abs(u)) > 0.99 * math.sqrt(3 / n))
      assert.are.same({{0, 0}}, cnn.zeros_init(1, 2):totable())
      assert.are.same({1, 1}, cnn.ones_init({2}):totable())
    end)
  end)
end)

describe("identity", function()
  it("returns its argument, whatever it is", function()
    local x = cnn.rand(3, 2)
    assert.equal(x, cnn.identity(x))
    assert.equal(5, cnn.identity(5))
    assert.is_nil(cnn.identity(nil))
  end)

  it("is an activation that changes nothing, printed as none, as Flux prints it", function()
    local plain = cnn.Dense(4, 2)
    local same = cnn.Dense(4, 2, cnn.identity)
    same.weight:copy(plain.weight)
    same.bias:copy(core.tensor({0.5, -0.5}))
    plain.bias:copy(same.bias)
    local x = cnn.randn(4, 3)
    helpers.assert_tensor_near(same(x), plain(x), 0, 0)
    assert.equal(cnn.identity, same.act)
    assert.equal("Dense(4 => 2)", tostring(same))
    assert.equal("Conv((3, 3), 1 => 2)", tostring(cnn.Conv({3, 3}, 1, 2, cnn.identity)))
    assert.equal("BatchNorm(2)", tostring(cnn.BatchNorm(2, cnn.identity)))
  end)

  it("passes the gradient through, in a layer and in a Chain", function()
    local d = cnn.Dense(3, 2, cnn.identity)
    local m = cnn.Chain(d, cnn.identity, cnn.softmax)
    assert.matches("  identity,\n", tostring(m), 1, true)
    local x = cnn.randn(3, 4)
    helpers.gradcheck(function() return cnn.sum(m(x) * cnn.tensor({1, 2})) end,
      {d.weight, d.bias}, {eps = 1e-3})
    helpers.gradcheck(function(z) return cnn.sum(cnn.identity(z) * z) end, {cnn.randn(3, 2)}, {eps = 1e-3})
  end)
end)
