local cnn = require "cnn"
local helpers = require "helpers"

local core = cnn.core
local T = core.tensor
local check = helpers.gradcheck

local EPS = 1.1920929e-7 -- eps(Float32)

local function flat(t) return core.reshape(core.contiguous(t), -1):totable() end

-- Flux's definitions in plain Lua over column-major values, for classes×N.
local reference = {}
function reference.crossentropy(p, y, classes)
  local s = 0
  for i = 1, #p do s = s + y[i] * math.log(p[i] + EPS) end
  return -s / (#p / classes)
end
function reference.logitcrossentropy(z, y, classes)
  local s = 0
  for j = 0, #z // classes - 1 do
    local m, lse = -math.huge, 0
    for i = 1, classes do m = math.max(m, z[j * classes + i]) end
    for i = 1, classes do lse = lse + math.exp(z[j * classes + i] - m) end
    lse = m + math.log(lse)
    for i = 1, classes do s = s + y[j * classes + i] * (z[j * classes + i] - lse) end
  end
  return -s / (#z / classes)
end
function reference.mse(p, y)
  local s = 0
  for i = 1, #p do s = s + (p[i] - y[i]) ^ 2 end
  return s / #p
end
function reference.binarycrossentropy(p, y)
  local s = 0
  for i = 1, #p do
    s = s - (y[i] * math.log(p[i] + EPS) + (1 - y[i]) * math.log(1 - p[i] + EPS))
  end
  return s / #p
end
function reference.logitbinarycrossentropy(z, y)
  local s = 0
  for i = 1, #z do
    local logsig = -math.log(1 + math.exp(-z[i]))
    s = s + (1 - y[i]) * z[i] - logsig
  end
  return s / #z
end

local probs = T{{0.7, 0.1}, {0.2, 0.3}, {0.1, 0.6}}       -- 3 classes × 2 samples
local onehot = T{{1, 0}, {0, 0}, {0, 1}}
local logits = T{{1.5, -0.3}, {0.2, 0.8}, {-1.0, 2.0}}
local soft = T{{0.6, 0.1}, {0.3, 0.2}, {0.1, 0.7}}          -- soft labels
local binary = T{{1, 0}, {0, 1}, {1, 1}}

local cases = {
  {"crossentropy", probs, onehot},
  {"crossentropy", probs, soft},
  {"logitcrossentropy", logits, onehot},
  {"logitcrossentropy", logits, soft},
  {"mse", logits, soft},
  {"binarycrossentropy", probs, binary},
  {"binarycrossentropy", probs, soft},
  {"logitbinarycrossentropy", logits, binary},
  {"logitbinarycrossentropy", logits, soft},
}

describe("losses", function()
  for _, case in ipairs(cases) do
    local name, yhat, y = case[1], case[2], case[3]

    it(name .. " matches Flux's definition", function()
      local v = cnn[name](yhat, y)
      assert.are.equal("number", type(v))
      local expected = reference[name](flat(yhat), flat(y), 3)
      assert.is_true(math.abs(v - expected) <= 1e-5 * math.abs(expected) + 1e-6,
        ("%s: %.9g, expected %.9g"):format(name, v, expected))
    end)

    it(name .. " has the gradient of finite differences", function()
      check(function(p) return cnn[name](p, y) end, {core.clone(yhat)}, {eps = 1e-3})
    end)
  end

  it("give a 0-dim tracked tensor inside a gradient call", function()
    local inside
    local v, g = cnn.withgradient(function(p)
      inside = cnn.mse(p, soft)
      return inside
    end, core.clone(logits))
    assert.are.equal(0, inside:ndims())
    assert.are.equal(v, cnn.item(inside))
    assert.are.same({3, 2}, g[1]:size())
  end)

  it("of the notebook: crossentropy of softmax against one-hot labels", function()
    local g = cnn.gradient(function(z) return cnn.crossentropy(cnn.softmax(z), onehot) end,
      core.clone(logits))
    -- d/dz = (softmax(z) - y) / N, up to the eps inside the log
    local expected = (cnn.softmax(logits) - onehot) / 2
    helpers.assert_tensor_near(g, expected, 1e-4, 1e-5)
  end)

  it("reject predictions and targets of different sizes", function()
    local a, b = core.zeros(10, 128), core.zeros(10, 64)
    for _, name in ipairs{"crossentropy", "logitcrossentropy", "mse", "binarycrossentropy",
                          "logitbinarycrossentropy"} do
      assert.has_error(function() cnn[name](a, b) end,
        name .. ": prediction 10×128 and target 10×64 differ in size")
    end
    assert.has_error(function() cnn.mse(core.zeros(4), core.zeros(4, 1)) end,
      "mse: prediction 4 and target 4×1 differ in size")
    assert.has_error(function() cnn.mse(1, core.zeros(4)) end,
      "mse: prediction must be a tensor, got number")
  end)
end)

-- Flux's cross-entropies with the classes along dimension `dims` of a
-- tensor of `sizes`, in plain Lua over column-major values: each
-- sample's loss (a table indexed by the sample's linear position among
-- the samples).
local function per_sample_reference(name, p, y, sizes, dims)
  local stride = 1
  for d = 1, dims - 1 do stride = stride * sizes[d] end
  local classes, outer = sizes[dims], #p // (stride * sizes[dims])
  local out = {}
  for o = 0, outer - 1 do
    for i = 0, stride - 1 do
      local function at(c) return o * stride * classes + c * stride + i + 1 end
      local lse, m = 0, -math.huge
      for c = 0, classes - 1 do m = math.max(m, p[at(c)]) end
      for c = 0, classes - 1 do lse = lse + math.exp(p[at(c)] - m) end
      lse = m + math.log(lse)
      local s = 0
      for c = 0, classes - 1 do
        local v = name == "crossentropy" and math.log(p[at(c)] + EPS) or p[at(c)] - lse
        s = s + y[at(c)] * v
      end
      out[#out + 1] = -s
    end
  end
  return out
end

describe("losses over classes along dims, with agg", function()
  cnn.seed(11)
  local sizes = {2, 3, 4}
  local logits3 = cnn.randn(sizes)
  local soft3 = cnn.softmax(cnn.randn(3, 8)):reshape(3, 2, 4):contiguous()
  -- soft labels summing to 1 along dimension 2 of 2×3×4
  local target3 = cnn.core.contiguous(cnn.softmax(cnn.randn(3, 2, 4):reshape(3, 8)):reshape(3, 2, 4))
  local function along2(t) -- 3×2×4 values as 2×3×4, classes along dimension 2
    local out = cnn.zeros(2, 3, 4)
    for i = 1, 2 do for c = 1, 3 do for k = 1, 4 do out[{i, c, k}] = t[{c, i, k}] end end end
    return out
  end
  local probs3, y3 = along2(soft3), along2(target3)
  local inputs = {crossentropy = probs3, logitcrossentropy = logits3}

  for _, name in ipairs{"crossentropy", "logitcrossentropy"} do
    local yhat = inputs[name]

    it(name .. " with dims = 2 matches Flux's definition, for each agg", function()
      local each = per_sample_reference(name, flat(yhat), flat(y3), sizes, 2)
      assert.are.equal(8, #each)
      local total = 0
      for _, v in ipairs(each) do total = total + v end
      local mean = cnn[name](yhat, y3, {dims = 2})
      assert.is_true(math.abs(mean - total / 8) <= 1e-5 * math.abs(total / 8),
        ("%.9g, expected %.9g"):format(mean, total / 8))
      local sum = cnn[name](yhat, y3, {dims = 2, agg = "sum"})
      assert.is_true(math.abs(sum - total) <= 1e-5 * math.abs(total), ("%.9g, expected %.9g"):format(sum, total))
      local losses = cnn[name](yhat, y3, {dims = 2, agg = function(l) return l end})
      assert.are.same({2, 1, 4}, losses:size())
      helpers.assert_tensor_near(losses:reshape(8), T(each), 1e-5, 1e-6)
    end)

    it(name .. " with dims = 1 is the default, and dims = 3 sums along the last dimension", function()
      assert.are.equal(cnn[name](yhat, y3), cnn[name](yhat, y3, {dims = 1, agg = "mean"}))
      local y = cnn.core.contiguous(cnn.softmax(cnn.randn(4, 6)):transpose():reshape(2, 3, 4))
      local p = yhat
      if name == "crossentropy" then
        p = cnn.core.contiguous(cnn.softmax(cnn.randn(4, 6)):transpose():reshape(2, 3, 4))
      end
      local each = per_sample_reference(name, flat(p), flat(y), sizes, 3)
      local total = 0
      for _, v in ipairs(each) do total = total + v end
      local v = cnn[name](p, y, {dims = 3})
      assert.is_true(math.abs(v - total / 6) <= 1e-5 * math.abs(total / 6),
        ("%.9g, expected %.9g"):format(v, total / 6))
    end)

    it(name .. " along dims has the gradient of finite differences, for each agg", function()
      local weights = cnn.range(1, 8):reshape(2, 1, 4)
      for _, agg in ipairs{"mean", "sum", function(l) return cnn.sum(l * weights) end} do
        check(function(p) return cnn[name](p, y3, {dims = 2, agg = agg}) end, {core.clone(yhat)}, {eps = 1e-3})
      end
      check(function(p) return cnn[name](p, y3, {dims = 3}) end, {core.clone(yhat)}, {eps = 1e-3})
    end)
  end

  it("crossentropy along dims = 2 of a matrix is that of its transpose", function()
    local p, y = cnn.softmax(logits), soft
    local a = cnn.crossentropy(p:transpose(), y:transpose(), {dims = 2})
    assert.is_true(math.abs(a - cnn.crossentropy(p, y)) <= 1e-6)
    local b = cnn.logitcrossentropy(logits:transpose(), y:transpose(), {dims = 2, agg = "sum"})
    assert.is_true(math.abs(b - 2 * cnn.logitcrossentropy(logits, y)) <= 1e-5)
  end)

  it("mse and the binary cross-entropies take agg, on every element", function()
    for _, case in ipairs{{"mse", logits, soft}, {"binarycrossentropy", probs, soft},
                          {"logitbinarycrossentropy", logits, soft}} do
      local name, yhat, y = case[1], case[2], case[3]
      local mean = cnn[name](yhat, y)
      local sum = cnn[name](yhat, y, {agg = "sum"})
      assert.is_true(math.abs(sum - 6 * mean) <= 1e-5 * math.abs(sum), name)
      local each = cnn[name](yhat, y, {agg = function(l) return l end})
      assert.are.same({3, 2}, each:size())
      assert.is_true(math.abs(cnn.sum(each) - sum) <= 1e-5 * math.abs(sum), name)
      assert.are.equal(mean, cnn[name](yhat, y, {agg = "mean"}))
      local w = cnn.tensor({{1, 2}, {3, 4}, {5, 6}})
      check(function(p) return cnn[name](p, y, {agg = function(l) return cnn.sum(l * w) end}) end,
        {core.clone(yhat)}, {eps = 1e-3})
      check(function(p) return cnn[name](p, y, {agg = "sum"}) end, {core.clone(yhat)}, {eps = 1e-3})
    end
  end)

  it("refuse unknown options, listing the valid ones, and dims or agg out of range", function()
    local err = helpers.error_message
    assert.are.equal('crossentropy: unknown option "dim" (valid options: agg, dims)',
      err(cnn.crossentropy, probs, onehot, {dim = 2}))
    assert.are.equal('mse: unknown option "dims" (valid options: agg)', err(cnn.mse, logits, soft, {dims = 1}))
    assert.are.equal("logitcrossentropy: dims = 3, but the prediction has 2 dimensions (3×2)",
      err(cnn.logitcrossentropy, logits, onehot, {dims = 3}))
    assert.are.equal("crossentropy: dims must be a positive integer, got 0",
      err(cnn.crossentropy, probs, onehot, {dims = 0}))
    assert.are.equal("crossentropy: dims must be a positive integer, got 2.0",
      err(cnn.crossentropy, probs, onehot, {dims = 2.0}))
    assert.are.equal('logitbinarycrossentropy: agg must be "mean", "sum" or a function such as cnn.sum, got "max"',
      err(cnn.logitbinarycrossentropy, logits, soft, {agg = "max"}))
    assert.are.equal("binarycrossentropy: options must be a table, got 5", err(cnn.binarycrossentropy, probs, soft, 5))
  end)
end)
