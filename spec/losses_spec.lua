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
