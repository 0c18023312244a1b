-- cnn.conv2d_relu_maxpool, and a Chain's Conv with relu followed by a
-- MaxPool, against the two ops one after the other: the same results and
-- gradients, element for element.
local cnn = require "cnn"
local helpers = require "helpers"

local core = cnn.core
local ops = cnn.ops

-- Every element of a equals the one of b (same sizes), and none is NaN
-- (NaN would fail the comparison too, but say why).
local function assert_identical(what, a, b)
  assert.are.same(b:size(), a:size(), what .. ": sizes")
  local ta, tb = a:contiguous():reshape(-1):totable(), b:contiguous():reshape(-1):totable()
  for i = 1, #tb do
    assert(ta[i] == ta[i] and tb[i] == tb[i], ("%s: element %d is NaN"):format(what, i))
    assert(ta[i] == tb[i], ("%s: element %d is %.9g, unfused %.9g"):format(what, i, ta[i], tb[i]))
  end
end

-- Some pooled outputs are zero (the relu cut the whole window, so the
-- relu backward on the pooled gradient matters) and some are not.
local function assert_mixed(what, y)
  local zeros, n = core.sum(core.eq(y, 0)), y:numel()
  assert(zeros > 0 and zeros < n, ("%s: %d of %d elements are zero"):format(what, zeros, n))
end

local CASES = {
  {conv = {pad = 1}, pool = {window = {2, 2}}, x = {9, 8, 3, 4}, k = {3, 3}, cout = 5},
  {conv = {stride = {2, 1}, dilation = {1, 2}}, pool = {window = {3, 2}, stride = {2, 1}, pad = 1},
   x = {12, 11, 2, 3}, k = {2, 3}, cout = 4},
  {conv = {pad = {0, 1, 2, 0}}, pool = {window = 3, stride = 1}, x = {7, 7, 4, 2}, k = {3, 2}, cout = 3,
   no_bias = true},
}

describe("conv2d_relu_maxpool", function()
  for n, case in ipairs(CASES) do
    it(("gives the results and gradients of conv2d with relu, then max pooling (case %d)"):format(n), function()
      cnn.seed(40 + n)
      local x = cnn.randn(table.unpack(case.x))
      local w = cnn.randn(case.k[1], case.k[2], case.x[3], case.cout)
      local b = not case.no_bias and cnn.randn(case.cout) or nil
      local relu_opts = {activation = "relu"}
      for k, v in pairs(case.conv) do relu_opts[k] = v end
      local function fused(a, k, c) return ops.conv2d_relu_maxpool(a, k, c, case.conv, case.pool) end
      local function unfused(a, k, c) return ops.pool2d("max", ops.conv2d(a, k, c, relu_opts), case.pool) end
      local y = fused(x, w, b)
      assert_identical("y", y, unfused(x, w, b))
      assert_identical("y with relu in conv_opts", ops.conv2d_relu_maxpool(x, w, b, relu_opts, case.pool), y)
      local r = cnn.randn(table.unpack(y:size()))
      local function loss(f) return function(a, k, c) return cnn.sum(f(a, k, c) * r) end end
      local gf = table.pack(cnn.gradient(loss(fused), x, w, b))
      local gu = table.pack(cnn.gradient(loss(unfused), x, w, b))
      for i, what in ipairs{"gx", "gw", "gb"} do
        if gu[i] then assert_identical(what, gf[i], gu[i]) end
      end
      assert_mixed("y", y)
    end)
  end

  it("has the gradient of finite differences", function()
    cnn.seed(7)
    local x, w, b = cnn.randn(6, 6, 2, 2), cnn.randn(3, 3, 2, 3), cnn.randn(3)
    local r = cnn.randn(3, 3, 3, 2)
    helpers.gradcheck(function(a, k, c)
      return cnn.sum(ops.conv2d_relu_maxpool(a, k, c, {pad = 1}, {window = 2}) * r)
    end, {x, w, b}, {eps = 1e-3})
  end)

  it("names itself in its errors", function()
    local x, w = cnn.rand(5, 5, 1, 2), cnn.rand(3, 3, 1, 4)
    assert.has_error(function() ops.conv2d_relu_maxpool(x, w, nil, {activation = "tanh"}, {window = 2}) end,
      'conv2d_relu_maxpool: conv_opts.activation must be "relu" or nil, got "tanh"')
    assert.has_error(function() ops.conv2d_relu_maxpool(x, w, nil, 3, {window = 2}) end,
      "conv2d_relu_maxpool: conv_opts must be a table or nil, got 3")
    assert.has_error(function() ops.conv2d_relu_maxpool(x, cnn.rand(3, 3, 2, 4), nil, {}, {window = 2}) end,
      "conv2d_relu_maxpool: conv2d: input has 1 channels (5×5×1×2), weight expects 2 (3×3×2×4)")
    assert.has_error(function() ops.conv2d_relu_maxpool(x, w, nil, {}, {}) end,
      "conv2d_relu_maxpool: pool2d: opts.window is required")
  end)
end)

describe("Chain with a Conv with relu followed by a MaxPool", function()
  local function layers()
    cnn.seed(3)
    return cnn.Conv({3, 3}, 2, 4, cnn.relu, {pad = 1}), cnn.MaxPool({2, 2}),
      cnn.Conv({3, 3}, 4, 3, cnn.relu), cnn.MaxPool(2, {stride = 1}), cnn.flatten
  end

  -- The same layers, shared, in a Chain that pairs them and in one where
  -- each MaxPool sits in a Chain of its own, which runs it alone.
  local c1, p1, c2, p2, flat = layers()
  local paired = cnn.Chain(c1, p1, c2, p2, flat)
  local apart = cnn.Chain(c1, cnn.Chain(p1), c2, cnn.Chain(p2), flat)

  local function counting(f)
    local calls = 0
    local fused = ops.conv2d_relu_maxpool
    ops.conv2d_relu_maxpool = function(...)
      calls = calls + 1
      return fused(...)
    end
    local ok, e = pcall(f)
    ops.conv2d_relu_maxpool = fused
    assert(ok, e)
    return calls
  end

  it("calls the pairs through conv2d_relu_maxpool, with the results and gradients of the layers", function()
    cnn.seed(11)
    local x = cnn.randn(10, 10, 2, 3)
    local y
    assert.are.equal(2, counting(function() y = paired(x) end))
    assert.are.equal(0, counting(function() apart(x) end))
    assert_identical("y", y, apart(x))
    local ps = cnn.params(paired)
    local r = cnn.randn(table.unpack(y:size()))
    local gp, ga
    assert.are.equal(2, counting(function()
      gp = cnn.gradient(function() return cnn.sum(paired(x) * r) end, ps)
    end))
    ga = cnn.gradient(function() return cnn.sum(apart(x) * r) end, ps)
    for i, p in ipairs(ps) do assert_identical("parameter " .. i, gp[p], ga[p]) end
    assert_mixed("the first pair's output", cnn.Chain(c1, p1)(x))
  end)

  it("does not pair a Conv without relu, or a MeanPool", function()
    local x = cnn.rand(6, 6, 2, 2)
    local m1 = cnn.Chain(cnn.Conv({3, 3}, 2, 4, cnn.tanh), cnn.MaxPool({2, 2}))
    local m2 = cnn.Chain(cnn.Conv({3, 3}, 2, 4, cnn.relu), cnn.MeanPool({2, 2}))
    assert.are.equal(0, counting(function() m1(x) m2(x) end))
  end)

  it("reports an input that does not fit either layer as the layers do one by one", function()
    local m = cnn.Chain(cnn.Conv({3, 3}, 2, 4, cnn.relu), cnn.MaxPool({2, 2}))
    local separate = cnn.Chain(cnn.Conv({3, 3}, 2, 4, cnn.relu), cnn.Chain(cnn.MaxPool({2, 2})))
    for _, x in ipairs{cnn.rand(6, 6, 3, 2), cnn.rand(2, 6, 2, 2), cnn.rand(3, 3, 2, 2), cnn.rand(6, 6, 2)} do
      local e = helpers.error_message(m, x)
      local one_by_one = helpers.error_message(separate, x):gsub("Chain layer 2, Chain layer 1, ", "Chain layer 2, ")
      assert.are.equal(one_by_one, e)
      assert.is_truthy(e:find("^Chain layer [12], "))
    end
    assert.has_error(function() m(cnn.rand(3, 3, 2, 2)) end,
      "Chain layer 2, MaxPool((2, 2)): input (1×1×4×2) with padding is smaller than the window (2, 2)")
  end)
end)
