-- LayerNorm, GroupNorm and InstanceNorm: printing, arguments, what they
-- normalise, modes, parameters, saving, the inputs they take, and the
-- layernorm op's errors. Their values against PyTorch are in
-- norms_fixture_spec.lua.
local cnn = require "cnn"
local helpers = require "helpers"

local core = cnn.core
local message = helpers.error_message

-- The mean and (biased) variance of the elements of t.
local function moments(t)
  local v = helpers.flat(t)
  local m, s = 0, 0
  for _, e in ipairs(v) do m = m + e end
  m = m / #v
  for _, e in ipairs(v) do s = s + (e - m) ^ 2 end
  return m, s / #v
end

local function assert_standardised(t, what)
  local m, v = moments(t)
  assert(math.abs(m) < 1e-5 and math.abs(v - 1) < 1e-3, ("%s: mean %g, variance %g"):format(what, m, v))
end

-- x W×H×C×N with a different scale and offset per channel and sample.
local function images(w, h, c, n)
  local x = core.rand(w, h, c, n)
  local s = core.reshape(core.range(1, c * n), 1, 1, c, n)
  return core.add(core.mul(x, s), s)
end

describe("normalisation layers", function()
  before_each(function() cnn.seed(3) end)

  it("print as Flux's", function()
    assert.are.equal("LayerNorm(5)", tostring(cnn.LayerNorm(5)))
    assert.are.equal("LayerNorm(3, 3, 2, relu)", tostring(cnn.LayerNorm({3, 3, 2}, cnn.relu)))
    assert.are.equal("LayerNorm(4, affine=false)", tostring(cnn.LayerNorm(4, {affine = false})))
    assert.are.equal("GroupNorm(32, 4)", tostring(cnn.GroupNorm(32, 4)))
    assert.are.equal("GroupNorm(32, 4, relu, affine=false)",
      tostring(cnn.GroupNorm(32, 4, cnn.relu, {affine = false})))
    assert.are.equal("InstanceNorm(16, affine=false)", tostring(cnn.InstanceNorm(16)))
    assert.are.equal("InstanceNorm(16, relu)", tostring(cnn.InstanceNorm(16, cnn.relu, {affine = true})))
    assert.are.equal("LayerNorm(5, affine=false)", tostring(cnn.LayerNorm(5, cnn.identity, {affine = false})))
  end)

  it("refuse arguments they do not understand, naming what is valid", function()
    local cases = {
      {function() return cnn.GroupNorm(6, 4) end, "GroupNorm: groups must divide channels (6), got 4"},
      {function() return cnn.GroupNorm(6) end, "GroupNorm: groups must be a positive integer, got nil"},
      {function() return cnn.GroupNorm(6, 2, {track_stats = true}) end,
       "GroupNorm: track_stats must be false (the layer keeps no running statistics), got true"},
      {function() return cnn.InstanceNorm(3, {track_stats = true}) end,
       "InstanceNorm: track_stats must be false (the layer keeps no running statistics), got true"},
      {function() return cnn.InstanceNorm(3, {momentum = 0.1}) end,
       'InstanceNorm: unknown option "momentum" (valid options: affine, eps, track_stats)'},
      {function() return cnn.InstanceNorm(3, {affine = 1}) end, "InstanceNorm: affine must be true or false, got 1"},
      {function() return cnn.GroupNorm(4, 2, {eps = 0}) end, "GroupNorm: eps must be a positive number, got 0"},
      {function() return cnn.LayerNorm({2, 0}) end,
       "LayerNorm: size must be a positive integer or a table of 1 to 8 positive integers, got {2, 0}"},
      {function() return cnn.LayerNorm(4.0) end,
       "LayerNorm: size must be a positive integer or a table of 1 to 8 positive integers, got 4.0"},
      {function() return cnn.LayerNorm(4, {affine = true}, cnn.relu) end,
       "LayerNorm: activation must come before the options table: LayerNorm(size [, act] [, opts]); "
         .. "got a table then a function"},
      {function() return cnn.LayerNorm(4, {bias = false}) end,
       'LayerNorm: unknown option "bias" (valid options: affine, eps)'},
      {function() return cnn.LayerNorm(4, cnn.relu, nil, 1) end,
       "LayerNorm: expected at most 3 arguments (size, act, opts), got 4"},
      {function() return cnn.GroupNorm(4.0, 2) end,
       "GroupNorm: channels must be a positive integer, got 4.0 (a float: compute sizes with //)"},
      {function() return cnn.InstanceNorm(4, true) end,
       "InstanceNorm: activation must be a function such as cnn.relu, got true"},
    }
    for _, c in ipairs(cases) do assert.are.equal(c[2], message(c[1])) end
  end)

  it("refuse inputs they do not take, naming the sizes", function()
    assert.are.equal("LayerNorm(3): input is 4×2, expected its first size to be 3",
      message(cnn.LayerNorm(3), cnn.rand(4, 2)))
    assert.are.equal("LayerNorm(4, 3, 2): input is 4×3×1×2, expected its first 3 sizes to be 4×3×2",
      message(cnn.LayerNorm({4, 3, 2}), cnn.rand(4, 3, 1, 2)))
    assert.are.equal("LayerNorm(4, 3): input is 4, expected its first 2 sizes to be 4×3",
      message(cnn.LayerNorm({4, 3}), cnn.rand(4)))
    assert.are.equal("GroupNorm(4, 2): input has 2 channels (3×3×2×1), expected 4",
      message(cnn.GroupNorm(4, 2), cnn.rand(3, 3, 2, 1)))
    assert.are.equal("GroupNorm(4, 2): input has 1 dimensions (4), expected at least 2 (C×N or W×H×C×N)",
      message(cnn.GroupNorm(4, 2), cnn.rand(4)))
    assert.are.equal("InstanceNorm(3, affine=false): input has 2 dimensions (3×2), expected at least 3 "
      .. "(W×C×N or W×H×C×N)", message(cnn.InstanceNorm(3), cnn.rand(3, 2)))
    assert.are.equal("InstanceNorm(3, affine=false): input is Int32 (2×3×2), expected Float32",
      message(cnn.InstanceNorm(3), cnn.zeros(2, 3, 2, "int32")))
  end)

  it("normalise the slices Flux's do", function()
    local x = images(4, 3, 6, 2)
    local y = cnn.LayerNorm({4, 3, 6})(x)
    for n = 1, 2 do assert_standardised(y:select(4, n), "LayerNorm sample " .. n) end
    local v = cnn.LayerNorm(5)(core.mul(core.rand(5, 3), core.range(1, 3):reshape(1, 3)))
    for n = 1, 3 do assert_standardised(v:select(2, n), "LayerNorm column " .. n) end
    y = cnn.GroupNorm(6, 3)(x)
    for n = 1, 2 do
      for g = 1, 3 do
        assert_standardised(y:select(4, n):slice(3, 2 * g - 1, 2 * g), ("group %d of %d"):format(g, n))
      end
    end
    y = cnn.InstanceNorm(6)(x)
    for n = 1, 2 do
      for c = 1, 6 do assert_standardised(y:select(4, n):select(3, c), ("channel %d of %d"):format(c, n)) end
    end
    -- a group of channels is not normalised per channel
    local m = moments(cnn.GroupNorm(6, 3)(x):select(4, 1):select(3, 1))
    assert.is_true(math.abs(m) > 0.1)
  end)

  it("apply gamma and beta per channel, and the activation after them", function()
    local x = images(3, 3, 4, 2)
    for _, l in ipairs{cnn.GroupNorm(4, 2), cnn.InstanceNorm(4, {affine = true})} do
      local plain = l(x)
      l.gamma:copy(cnn.tensor({1, 2, 3, 4}))
      l.beta:copy(cnn.tensor({0, 1, 0, -1}))
      local want = plain * cnn.tensor({1, 2, 3, 4}):reshape(1, 1, 4, 1) + cnn.tensor({0, 1, 0, -1}):reshape(1, 1, 4, 1)
      helpers.assert_tensor_near(l(x), want, 1e-5, 1e-5)
      l.act = cnn.relu
      helpers.assert_tensor_near(l(x), cnn.relu(want), 1e-5, 1e-5)
    end
    local l = cnn.LayerNorm({3, 2})
    local plain = l(cnn.rand(3, 2, 5))
    l.gamma:copy(cnn.tensor({{1, 2}, {3, 4}, {5, 6}}))
    local y = l(cnn.rand(3, 2, 5))
    assert.are.same({3, 2, 5}, y:size())
    assert.is_false(plain == y)
  end)

  it("behave the same in train and test mode, inside a gradient call or not", function()
    local x = images(4, 4, 4, 2)
    local m = cnn.Chain(cnn.LayerNorm({4, 4, 4}), cnn.GroupNorm(4, 2, cnn.relu), cnn.InstanceNorm(4, {affine = true}))
    local want = m(x)
    cnn.trainmode(m)
    assert.is_true(m(x) == want)
    cnn.testmode(m)
    assert.is_true(m(x) == want)
    local inside
    cnn.gradient(function(a) inside = m(a) return cnn.sum(inside) end, x)
    assert.is_true(core.isapprox(core.contiguous(inside), want, 0, 0))
  end)

  it("are found by params, loadparams, savemodel and loadmodel", function()
    local function model()
      return cnn.Chain(cnn.Conv({3, 3}, 1, 4, {pad = 1}), cnn.GroupNorm(4, 2, cnn.relu),
        cnn.InstanceNorm(4, {affine = true}), cnn.InstanceNorm(4), cnn.LayerNorm({6, 6, 4}),
        cnn.flatten, cnn.Dense(144, 3), cnn.LayerNorm(3, {affine = false}))
    end
    local a, b = model(), model()
    local ps = cnn.params(a)
    -- conv 2, group 2, instance 2, layer 2, dense 2
    assert.are.equal(10, #ps)
    assert.are.same({6, 6, 4}, ps[7]:size())
    for _, p in ipairs(ps) do core.copy(p, core.rand(p:size())) end
    local path = os.tmpname()
    cnn.savemodel(path, a)
    cnn.loadmodel(path, b)
    os.remove(path)
    local x = cnn.rand(6, 6, 1, 2)
    assert.is_true(a(x) == b(x))
    local c = model()
    cnn.loadparams(c, a)
    assert.is_true(a(x) == c(x))
    assert.matches("GroupNorm%(4, 2, relu%),%s+# 8 parameters", tostring(a))
    assert.matches("LayerNorm%(6, 6, 4%),%s+# 288 parameters", tostring(a))
  end)

  it("take a convolution's blocked output, views and an empty batch", function()
    local conv = cnn.Conv({3, 3}, 2, 8, {pad = 1})
    local x = cnn.rand(6, 6, 2, 3)
    local y = conv(x)
    for _, l in ipairs{cnn.GroupNorm(8, 4), cnn.InstanceNorm(8), cnn.LayerNorm({6, 6, 8})} do
      local blocked = conv(x)
      assert.are.equal("blocked", core.layout(blocked))
      local want = l(y:contiguous():clone())
      assert.is_true(l(blocked) == want)
      -- a view with gaps: the first 6 of 7 columns
      local view = cnn.rand(7, 6, 8, 2):slice(1, 1, 6)
      assert.is_false(view:is_contiguous())
      helpers.assert_tensor_near(l(view), l(view:contiguous()), 0, 0)
      assert.are.same({6, 6, 8, 0}, l(cnn.zeros(6, 6, 8, 0)):size())
    end
    local gs = cnn.gradient(function(a) return cnn.sum(cnn.GroupNorm(8, 2)(conv(a)) * conv(a)) end, x)
    assert.are.same({6, 6, 2, 3}, gs:size())
  end)

  it("create no primitive from the second training step on", function()
    local m = cnn.Chain(cnn.Conv({3, 3}, 1, 4, {pad = 1}), cnn.GroupNorm(4, 2, cnn.relu),
      cnn.InstanceNorm(4, {affine = true}), cnn.LayerNorm({5, 5, 4}), cnn.flatten, cnn.Dense(100, 2))
    local ps, opt, x = cnn.params(m), cnn.ADAM(), cnn.rand(5, 5, 1, 3)
    local function step()
      cnn.update(opt, ps, cnn.gradient(function() return cnn.sum(m(x)) end, ps))
    end
    helpers.assert_no_new_primitives(step)
  end)
end)

describe("layernorm", function()
  it("normalises the first dims sizes together", function()
    local x = cnn.rand(3, 2, 4)
    local y = cnn.layernorm(x, 2)
    for n = 1, 4 do assert_standardised(y:select(3, n), "slice " .. n) end
    -- eps (1e-5) takes a little of the variance of three elements
    local y1 = cnn.layernorm(x, 1, cnn.fill(2, 3), cnn.fill(1, 3))
    for n = 1, 4 do
      for j = 1, 2 do
        local m, v = moments(y1:select(3, n):select(2, j))
        assert(math.abs(m - 1) < 1e-5 and math.abs(v - 4) < 0.02, ("mean %g variance %g"):format(m, v))
      end
    end
  end)

  it("gives the gradients of gamma and beta only when given them", function()
    local x = cnn.rand(3, 4)
    local y, mean, var = core.layernorm(x, 1)
    assert.are.same({4}, mean:size())
    assert.are.same({4}, var:size())
    assert.are.equal(1, select("#", core.layernorm_backward(cnn.ones(3, 4), x, 1, nil, mean, var)))
    local gx, gg, gb = core.layernorm_backward(cnn.ones(3, 4), x, 1, cnn.ones(3), mean, var)
    assert.are.same({3, 4}, gx:size())
    assert.are.same({3}, gg:size())
    helpers.assert_tensor_near(gb, cnn.fill(4, 3), 0, 0)
    assert.is_true(core.isapprox(y, cnn.layernorm(x, 1), 0, 0))
  end)

  it("refuses operands of the wrong sizes, naming them", function()
    local x = cnn.rand(3, 2)
    assert.are.equal("layernorm: dims must be from 1 to the input's 2 dimensions, got 3",
      message(cnn.layernorm, x, 3))
    assert.are.equal("layernorm: dims must be from 1 to the input's 2 dimensions, got 0",
      message(cnn.layernorm, x, 0))
    assert.are.equal("layernorm: gamma is 2, the normalised sizes of input 3×2 are 3",
      message(cnn.layernorm, x, 1, cnn.ones(2), cnn.ones(2)))
    assert.are.equal("layernorm: gamma and beta must be given together, got gamma only",
      message(cnn.layernorm, x, 1, cnn.ones(3)))
    assert.are.equal("layernorm: epsilon must be positive, got 0", message(cnn.layernorm, x, 1, nil, nil, 0))
    local _, mean, var = core.layernorm(x, 1)
    assert.are.equal("layernorm_backward: gradient is 2×3, input is 3×2",
      message(core.layernorm_backward, cnn.ones(2, 3), x, 1, nil, mean, var))
    assert.are.equal("layernorm_backward: mean is 3, the input has 2 normalised columns",
      message(core.layernorm_backward, cnn.ones(3, 2), x, 1, nil, cnn.ones(3), var))
    assert.matches("^layernorm: bad argument #1", message(cnn.layernorm, "x", 1))
  end)
end)

describe("groupnorm", function()
  it("is layer normalisation of each group of channels, then gamma and beta per channel", function()
    local x = cnn.rand(3, 2, 6, 2)
    local gamma, beta = cnn.rand(6), cnn.rand(6)
    local want = cnn.layernorm(x:reshape(3 * 2 * 2, 3 * 2), 1):reshape(3, 2, 6, 2)
      * gamma:reshape(1, 1, 6, 1) + beta:reshape(1, 1, 6, 1)
    helpers.assert_tensor_near(cnn.groupnorm(x, 3, gamma, beta), want, 1e-5, 1e-5)
    local gs = {cnn.gradient(function(a, g, b) return cnn.sum(cnn.groupnorm(a, 3, g, b) * x) end, x, gamma, beta)}
    local ws = {cnn.gradient(function(a, g, b)
      local y = cnn.layernorm(a:reshape(12, 6), 1):reshape(3, 2, 6, 2) * g:reshape(1, 1, 6, 1) + b:reshape(1, 1, 6, 1)
      return cnn.sum(y * x)
    end, x, gamma, beta)}
    for i = 1, 3 do helpers.assert_tensor_near(gs[i], ws[i], 1e-4, 1e-5) end
  end)

  it("refuses operands of the wrong sizes, naming them", function()
    local x = cnn.rand(3, 3, 4, 2)
    assert.are.equal("groupnorm: groups must divide the 4 channels of input 3×3×4×2, got 3",
      message(cnn.groupnorm, x, 3))
    assert.are.equal("groupnorm: groups must divide the 4 channels of input 3×3×4×2, got 0",
      message(cnn.groupnorm, x, 0))
    assert.are.equal("groupnorm: gamma is 3, input 3×3×4×2 has 4 channels",
      message(cnn.groupnorm, x, 2, cnn.ones(3), cnn.ones(3)))
    assert.are.equal("groupnorm: gamma and beta must be given together, got beta only",
      message(cnn.groupnorm, x, 2, nil, cnn.ones(4)))
    assert.are.equal("groupnorm: input must have at least 2 dimensions (C×N or W×H×C×N), got 4",
      message(cnn.groupnorm, cnn.rand(4), 2))
    local _, mean, var = core.groupnorm(x, 2)
    assert.are.same({4}, mean:size())
    assert.are.equal("groupnorm_backward: mean is 2, expected 4 (groups × samples)",
      message(core.groupnorm_backward, x, x, 2, nil, cnn.ones(2), var))
    assert.are.equal("groupnorm_backward: gradient is 3×3×4×1, input is 3×3×4×2",
      message(core.groupnorm_backward, cnn.rand(3, 3, 4, 1), x, 2, nil, mean, var))
  end)
end)
