-- Grouped and depthwise convolution (Conv's `groups`): the layer's
-- construction, printing and errors, its output against one convolution
-- per group, its gradients against finite differences, and a save and
-- load. The values against PyTorch are in grouped_conv_fixture_spec.lua.
local cnn = require "cnn"
local helpers = require "helpers"

local core = cnn.core
local near = helpers.assert_tensor_near

local tmpfile = helpers.tmpfile
local data = helpers.smooth_data
local wsum = helpers.wsum

describe("Conv with groups", function()
  it("prints groups when there is more than one, as Flux", function()
    assert.are.equal("Conv((3, 3), 32 => 32, relu, pad=1, groups=32)",
      tostring(cnn.Conv({3, 3}, 32, 32, cnn.relu, {pad = 1, groups = 32})))
    assert.are.equal("Conv((3, 3), 4 => 6, stride=2, groups=2, bias=false)",
      tostring(cnn.Conv({3, 3}, 4, 6, {stride = 2, groups = 2, bias = false})))
    assert.are.equal("Conv((3, 3), 4 => 6)", tostring(cnn.Conv({3, 3}, 4, 6, {groups = 1})))
    local m = cnn.Chain(cnn.Conv({3, 3}, 8, 8, {pad = 1, groups = 8}), cnn.Conv({1, 1}, 8, 16))
    assert.truthy(tostring(m):find("Conv((3, 3), 8 => 8, pad=1, groups=8),  # 80 parameters", 1, true))
    assert.truthy(cnn.summary(m, {6, 6, 8, 1}):find("6×6×8×1", 1, true))
  end)

  it("draws kW×kH×(Cin/groups)×Cout weights with the fans of one group", function()
    cnn.seed(7)
    local c = cnn.Conv({3, 3}, 32, 64, {groups = 4})
    assert.are.same({3, 3, 8, 64}, c.weight:size())
    assert.are.same({64}, c.bias:size())
    assert.are.equal(4, c.groups)
    -- glorot_uniform of 3×3×8×64: fan_in 3·3·8, fan_out 3·3·64
    local s = math.sqrt(6 / (9 * 8 + 9 * 64))
    assert.is_true(core.maximum(c.weight) <= s and core.minimum(c.weight) >= -s)
    assert.is_true(core.maximum(c.weight) > 0.9 * s and core.minimum(c.weight) < -0.9 * s)
    assert.are.same({3, 3, 1, 16}, cnn.Conv({3, 3}, 16, 16, {groups = 16}).weight:size())
    local sizes
    cnn.Conv({3, 3}, 6, 9, {groups = 3, init = function(...)
      sizes = {...}
      return cnn.zeros(...)
    end})
    assert.are.same({3, 3, 2, 9}, sizes)
  end)

  it("computes output sizes as one group does", function()
    local x = core.rand(9, 8, 4, 3)
    assert.are.same({9, 8, 4, 3}, cnn.Conv({3, 3}, 4, 4, {pad = 1, groups = 4})(x):size())
    assert.are.same({4, 3, 8, 3}, cnn.Conv({3, 3}, 4, 8, {stride = 2, dilation = 1, groups = 2})(x):size())
  end)

  it("refuses groups that do not divide the channels, naming them", function()
    assert.has_error(function() cnn.Conv({3, 3}, 6, 8, {groups = 4}) end,
      "Conv: cin = 6 is not divisible by groups = 4 (cin and cout must be multiples of groups)")
    assert.has_error(function() cnn.Conv({3, 3}, 8, 6, {groups = 4}) end,
      "Conv: cout = 6 is not divisible by groups = 4 (cin and cout must be multiples of groups)")
    assert.has_error(function() cnn.Conv({3, 3}, 4, 4, {groups = 0}) end,
      "Conv: groups must be a positive integer, got 0")
    assert.has_error(function() cnn.Conv({3, 3}, 4, 4, {groups = 2.5}) end,
      "Conv: groups must be a positive integer, got 2.5")
    assert.has_error(function() cnn.Conv({3, 3}, 4, 4, {groups = "4"}) end,
      'Conv: groups must be a positive integer, got "4"')
  end)

  it("checks the input's channels against Cin, not the weight's third size", function()
    local c = cnn.Conv({3, 3}, 8, 8, {groups = 4})
    assert.has_error(function() c(core.rand(5, 5, 2, 1)) end,
      "Conv((3, 3), 8 => 8, groups=4): input has 2 channels (5×5×2×1), expected 8")
  end)

  it("gives each group's outputs from that group's inputs only", function()
    local x = data({7, 6, 6, 2}, 1)
    local c = cnn.Conv({3, 2}, 6, 9, cnn.relu, {groups = 3, pad = {1, 0}, stride = {1, 2}})
    c.weight:copy(data(c.weight:size(), 2))
    c.bias:copy(data({9}, 3))
    local y = c(x)
    for g = 0, 2 do
      local one = cnn.Conv({3, 2}, 2, 3, cnn.relu, {pad = {1, 0}, stride = {1, 2}})
      one.weight:copy(c.weight:narrow(4, 3 * g + 1, 3))
      one.bias:copy(c.bias:narrow(1, 3 * g + 1, 3))
      near(y:narrow(3, 3 * g + 1, 3), one(x:narrow(3, 2 * g + 1, 2):contiguous()), 1e-5, 1e-6)
    end
  end)

  for _, case in ipairs{
    {name = "grouped", cin = 4, cout = 6, opts = {groups = 2, pad = 1, stride = {2, 1}}},
    {name = "depthwise", cin = 3, cout = 3, opts = {groups = 3, pad = {1, 2}, dilation = {2, 1}}},
    {name = "depthwise, 2 outputs per channel", cin = 2, cout = 4, opts = {groups = 2, stride = 2}},
  } do
    it("has the gradients of finite differences: " .. case.name, function()
      local c = cnn.Conv({3, 3}, case.cin, case.cout, case.opts)
      local x = data({6, 5, case.cin, 2}, 4)
      local w, b = data(c.weight:size(), 5), data({case.cout}, 6)
      helpers.gradcheck(function(input, k, bias)
        c.weight, c.bias = k, bias
        return wsum(c(input))
      end, {x, w, b}, {rtol = 1e-2})
    end)
  end

  it("has the gradient of an unfused relu when the relu is fused", function()
    local x = data({6, 5, 4, 2}, 7)
    local fused = cnn.Conv({3, 3}, 4, 8, cnn.relu, {groups = 4, pad = 1})
    local plain = cnn.Conv({3, 3}, 4, 8, {groups = 4, pad = 1})
    plain.weight:copy(fused.weight)
    plain.bias:copy(data({8}, 8))
    fused.bias:copy(plain.bias)
    local gf = cnn.gradient(function() return wsum(fused(x)) end, cnn.params(fused))
    local gp = cnn.gradient(function() return wsum(cnn.relu(plain(x))) end, cnn.params(plain))
    near(gf[fused.weight], gp[plain.weight], 1e-5, 1e-6)
    near(gf[fused.bias], gp[plain.bias], 1e-5, 1e-6)
    local y = fused(x)
    assert.is_true(core.sum(core.eq(y, 0)) > 0 and core.sum(core.gt(y, 0)) > 0)
  end)

  it("keeps a NaN in its own group, with the relu fused", function()
    local c = cnn.Conv({3, 3}, 4, 8, cnn.relu, {pad = 1, groups = 4})
    local x = data({5, 5, 4, 1}, 10)
    x[{1, 1, 3, 1}] = 0 / 0
    local nan = core.ne(c(x), c(x))
    -- the outputs of group 3 (channels 5 and 6) whose window holds (1, 1)
    for ch = 1, 8 do
      local expected = (ch == 5 or ch == 6) and 4 or 0
      assert.are.equal(expected, core.sum(nan:narrow(3, ch, 1)))
    end
  end)

  it("goes through savemodel and loadmodel", function()
    local function build()
      return cnn.Chain(cnn.Conv({3, 3}, 2, 8, cnn.relu, {pad = 1, groups = 2}),
                       cnn.Conv({3, 3}, 8, 8, {groups = 8}), cnn.flatten)
    end
    local path = tmpfile()
    local a, b = build(), build()
    cnn.savemodel(path, a)
    assert.is_false(cnn.params(a)[1] == cnn.params(b)[1])
    cnn.loadmodel(path, b)
    local pa, pb = cnn.params(a), cnn.params(b)
    for i = 1, #pa do assert.is_true(pa[i] == pb[i]) end
    local x = data({6, 6, 2, 3}, 9)
    assert.is_true(a(x) == b(x))
    -- the same channels in one group hold another weight
    local full = cnn.Chain(cnn.Conv({3, 3}, 2, 8, cnn.relu, {pad = 1}),
                           cnn.Conv({3, 3}, 8, 8, {groups = 8}), cnn.flatten)
    assert.has_error(function() cnn.loadmodel(path, full) end,
      ("loadmodel: tensor 1 is 3×3×2×8 in the model but 3×3×1×8 in %s"):format(path))
    os.remove(path)
  end)
end)
